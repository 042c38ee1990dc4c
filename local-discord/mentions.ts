/** Who a message pings, as Discord computes it from content, allowed_mentions and permissions. */
export interface AllowedMentions {
  parse?: string[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

export interface MentionInput {
  content: string;
  allowed: AllowedMentions | undefined;
  knownUserIds: (id: string) => boolean;
  knownRoleIds: (id: string) => boolean;
  /** Author of the message replied to, if any. */
  repliedAuthorId: string | null;
  /** Author may use @everyone/@here (MENTION_EVERYONE permission, or a DM). */
  canMentionEveryone: boolean;
}

export interface Mentions {
  userIds: string[];
  roleIds: string[];
  everyone: boolean;
}

export function computeMentions(input: MentionInput): Mentions {
  const { content, allowed } = input;
  // Without allowed_mentions Discord parses everything; with it, only what it lists.
  const parse = new Set(allowed ? (allowed.parse ?? []) : ['users', 'roles', 'everyone']);
  const users = new Set(allowed?.users ?? []);
  const roles = new Set(allowed?.roles ?? []);

  const userIds: string[] = [];
  for (const m of content.matchAll(/<@!?(\d{17,20})>/g)) {
    const id = m[1]!;
    if (!input.knownUserIds(id) || userIds.includes(id)) continue;
    if (parse.has('users') || users.has(id)) userIds.push(id);
  }
  const pingReplied = allowed ? allowed.replied_user === true : true;
  if (input.repliedAuthorId && pingReplied && !userIds.includes(input.repliedAuthorId)) {
    userIds.push(input.repliedAuthorId);
  }

  const roleIds: string[] = [];
  for (const m of content.matchAll(/<@&(\d{17,20})>/g)) {
    const id = m[1]!;
    if (!input.knownRoleIds(id) || roleIds.includes(id)) continue;
    if (parse.has('roles') || roles.has(id)) roleIds.push(id);
  }

  const everyone = /@(everyone|here)\b/.test(content) && parse.has('everyone') && input.canMentionEveryone;
  return { userIds, roleIds, everyone };
}
