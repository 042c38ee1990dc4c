import type {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
} from 'discord.js';
import type { BotContext } from '../context.js';

/** The JSON shape we declare commands in (a readonly subset of Discord's application command object). */
export interface CommandOptionData {
  readonly name: string;
  readonly description: string;
  readonly type: ApplicationCommandOptionType;
  readonly required?: boolean;
  readonly name_localizations?: Readonly<Record<string, string>>;
  readonly description_localizations?: Readonly<Record<string, string>>;
  readonly options?: readonly CommandOptionData[];
  readonly [key: string]: unknown;
}

export interface SlashCommand {
  readonly data: {
    readonly name: string;
    readonly description: string;
    readonly type?: ApplicationCommandType.ChatInput;
    readonly options?: readonly CommandOptionData[];
    readonly name_localizations?: Readonly<Record<string, string>>;
    readonly description_localizations?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
}

export interface MessageCommand {
  readonly data: {
    readonly name: string;
    readonly type: ApplicationCommandType.Message;
    readonly name_localizations?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void>;
}
