/** Escapes Discord markdown in user text shown inside our own formatting. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_~`|>#-])/g, '\\$1').replace(/\n/g, ' ');
}
