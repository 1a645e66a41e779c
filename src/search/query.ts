/**
 * A search query compiled once per call: the line matcher (RE2, ripgrep semantics), the literal
 * plan every match must satisfy (literal-plan.ts) and the matcher with the plan's prefilter in
 * front. Every file of the search, warm or cold, is scanned with the same compiled query.
 */
import { compileMatcher, type Matcher } from "./matcher.js";
import {
  literalAlternatives,
  rarestLiteral,
  withLiteralPrefilter,
  type PrefilteredMatcher,
} from "./prefilter.js";
import { buildPlan, type LiteralPlan } from "./literal-plan.js";

export interface QueryOptions {
  pattern: string;
  literal?: boolean;
  /** true / false force case (in)sensitivity; undefined = smart case. */
  caseSensitive?: boolean;
  wordBoundaries?: boolean;
}

export interface SearchQuery {
  readonly pattern: string;
  /** What it was compiled from (a worker thread compiles the same query from these). */
  readonly options: Readonly<QueryOptions>;
  /** The plain matcher: decides every line. */
  readonly lineMatcher: Matcher;
  /** `lineMatcher` behind the plan's literal test: the same answers, faster. */
  readonly matcher: PrefilteredMatcher;
  readonly ignoreCase: boolean;
  /** The pattern is exactly one case-sensitive literal without word boundaries. */
  readonly exact: boolean;
  /** What every match contains; undefined when nothing is known (e.g. `\w+`). */
  readonly plan: LiteralPlan | undefined;
}

/** Throws PatternError (from the matcher) on a pattern RE2 rejects. */
export function compileQuery(options: QueryOptions): SearchQuery {
  const literal = options.literal ?? false;
  const word = options.wordBoundaries ?? false;
  const lineMatcher = compileMatcher({
    pattern: options.pattern,
    literal,
    ...(options.caseSensitive !== undefined ? { caseSensitive: options.caseSensitive } : {}),
    wordBoundaries: word,
  });
  const ignoreCase = lineMatcher.ignoreCase;
  const exact = literal && !ignoreCase && !word;
  const plan = buildPlan(literalAlternatives(options.pattern, literal), ignoreCase, rarestLiteral);
  const matcher = withLiteralPrefilter(lineMatcher, plan, exact, {
    pattern: options.pattern,
    literal,
    wordBoundaries: word,
  });
  return {
    pattern: options.pattern,
    options: { ...options },
    lineMatcher,
    matcher,
    ignoreCase,
    exact,
    plan,
  };
}
