/** Permission bits the local Discord computes with (subset of Discord's table). */
export const Perm = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  ChangeNickname: 1n << 26n,
  ManageRoles: 1n << 28n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

/** All bits Discord currently defines; what an administrator effectively has. */
export const ALL_PERMISSIONS = (1n << 53n) - 1n;

/** What @everyone gets in a fresh guild: read, write, attach, use commands. */
export const EVERYONE_DEFAULT =
  Perm.CreateInstantInvite |
  Perm.AddReactions |
  Perm.ViewChannel |
  Perm.SendMessages |
  Perm.EmbedLinks |
  Perm.AttachFiles |
  Perm.ReadMessageHistory |
  Perm.UseExternalEmojis |
  Perm.ChangeNickname |
  Perm.UseApplicationCommands |
  Perm.SendMessagesInThreads;

/** Guild-level permissions of a member: OR of its roles; Administrator implies everything. */
export function combinePermissions(rolePermissions: bigint[], isOwner: boolean): bigint {
  const bits = rolePermissions.reduce((acc, p) => acc | p, 0n);
  return isOwner || (bits & Perm.Administrator) !== 0n ? ALL_PERMISSIONS : bits;
}
