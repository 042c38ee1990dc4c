/**
 * Discord snowflakes: (ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment.
 * Real-looking 18-19 digit ids matter: @discordjs/rest buckets routes by the `\d{17,19}` pattern,
 * so shorter ids would put every channel into one rate-limit bucket.
 */
const DISCORD_EPOCH = 1_420_070_400_000n;

let lastMs = 0n;
let increment = 0n;

/** A new, strictly increasing snowflake id. */
export function nextSnowflake(now = Date.now()): string {
  let ms = BigInt(now) - DISCORD_EPOCH;
  if (ms <= lastMs) {
    // Same millisecond (or clock went back): keep ids strictly increasing so "newer" sorts last.
    ms = lastMs;
    increment += 1n;
    if (increment > 0xfffn) {
      ms += 1n;
      increment = 0n;
    }
  } else {
    increment = 0n;
  }
  lastMs = ms;
  return ((ms << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
}

/** Milliseconds since the Unix epoch encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** Ordering helper: snowflakes are numeric strings of varying length. */
export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
