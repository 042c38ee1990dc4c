import { describe, expect, it } from 'vitest';
import { UserError } from '../../../bot/errors.js';
import {
  applySettingsChange,
  assertAllowed,
  defaultGuildSettings,
  parseStoredSettings,
} from '../../../bot/settings/guild-settings.js';

describe('guild settings', () => {
  it('defaults allow everything', () => {
    const s = defaultGuildSettings();
    expect(() => assertAllowed(s, 'imagine', 'any-channel')).not.toThrow();
    expect(s.defaultCount).toBe(1);
  });

  it('restricts to allowed channels and names them', () => {
    let s = applySettingsChange(defaultGuildSettings(), { kind: 'allow-channel', channelId: '111' });
    s = applySettingsChange(s, { kind: 'allow-channel', channelId: '111' });
    expect(s.allowedChannelIds).toEqual(['111']);
    expect(() => assertAllowed(s, 'imagine', '111')).not.toThrow();
    expect(() => assertAllowed(s, 'imagine', '222')).toThrow(/only work in <#111>/);
    s = applySettingsChange(s, { kind: 'all-channels' });
    expect(() => assertAllowed(s, 'imagine', '222')).not.toThrow();
  });

  it('turns features off and on', () => {
    let s = applySettingsChange(defaultGuildSettings(), { kind: 'feature', feature: 'chat', enabled: false });
    expect(() => assertAllowed(s, 'chat', 'c')).toThrow(/turned off/);
    expect(() => assertAllowed(s, 'imagine', 'c')).not.toThrow();
    s = applySettingsChange(s, { kind: 'feature', feature: 'chat', enabled: true });
    expect(() => assertAllowed(s, 'chat', 'c')).not.toThrow();
  });

  it('refuses inconsistent defaults and limits', () => {
    const s = applySettingsChange(defaultGuildSettings(), { kind: 'limits', maxCount: 2 });
    expect(() => applySettingsChange(s, { kind: 'defaults', count: 3 })).toThrow(UserError);
    expect(() => applySettingsChange(s, { kind: 'defaults', blendAmount: 2 })).toThrow(UserError);
  });

  it('does not mutate the input and reset restores defaults', () => {
    const s = defaultGuildSettings();
    const changed = applySettingsChange(s, { kind: 'allow-channel', channelId: '1' });
    expect(s.allowedChannelIds).toEqual([]);
    expect(applySettingsChange(changed, { kind: 'reset' })).toEqual(defaultGuildSettings());
  });

  it('reads stored rows field by field, surviving garbage and old schemas', () => {
    expect(parseStoredSettings('not json')).toEqual(defaultGuildSettings());
    const s = parseStoredSettings(JSON.stringify({ defaultCount: 3, maxCount: 'many', removedField: 1 }));
    expect(s.defaultCount).toBe(3);
    expect(s.maxCount).toBe(4);
  });
});
