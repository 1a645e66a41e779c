/**
 * The one regex engine of the daemon: RE2, which runs in time linear in the input, so no pattern
 * from a caller or a config file can stall the event loop. Everything that compiles a pattern
 * (grep's matcher, globs, `[commands]` rules) comes through here.
 */
import RE2 from "re2";

export { RE2 };

/** Compiles `source` with RE2; throws an Error whose message says why RE2 rejects it. */
export function compileRegex(source: string, flags = "u"): RE2 {
  return new RE2(source, flags);
}
