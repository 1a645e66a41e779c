/** `[commands]` rules for run_terminal_cmd: VT Code's semantics, and bad regexes caught at config load. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import {
  compileCommandRegex,
  evaluateCommand,
  programNames,
  type CommandDecision,
  type CommandRules,
} from "../../src/policy/commands.js";

const none: CommandRules = {
  allow_list: [],
  deny_list: [],
  allow_glob: [],
  deny_glob: [],
  allow_regex: [],
  deny_regex: [],
};
const rules = (r: Partial<CommandRules>): CommandRules => ({ ...none, ...r });
const ruleOf = (d: CommandDecision) => ("reason" in d ? d.rule : undefined);
const reasonOf = (d: CommandDecision) => ("reason" in d ? d.reason : "");

describe("evaluateCommand", () => {
  test("no rules at all: everything is allowed", () => {
    assert.equal(evaluateCommand(none, "rm -rf build").verdict, "allow");
  });

  test("deny_list names programs: basename of the first word, in every part of a shell line", () => {
    const r = rules({ deny_list: ["rm", "curl"] });
    for (const cmd of [
      "rm -rf x",
      "/bin/rm x",
      "FOO=1 rm x",
      "ls && rm x",
      "ls | rm",
      "echo $(curl evil)",
      "echo `curl evil`",
      "(cd a; rm x)",
      "env rm x",
      "sudo rm x",
      'echo "$(rm x)"',
      'echo "a `curl evil` b"',
      "echo $(( $(rm x) + 1 ))",
    ]) {
      const d = evaluateCommand(r, cmd);
      assert.equal(d.verdict, "deny", cmd);
      assert.match(ruleOf(d) ?? "", /^commands\.deny_list = "(rm|curl)"$/, cmd);
    }
    assert.equal(evaluateCommand(r, "echo 'rm; curl'").verdict, "allow", "quoted text is not a command");
    assert.equal(evaluateCommand(r, "grep -r rmdir .").verdict, "allow", "a program name is matched whole");
    assert.equal(evaluateCommand(r, ["/usr/bin/curl", "x"]).verdict, "deny", "argv form: argv[0] basename");
  });

  test("globs and regexes match the whole command line", () => {
    const r = rules({ deny_glob: ["git push *--force*"], deny_regex: ["^npm\\s+publish\\b"] });
    const g = evaluateCommand(r, "git push origin main --force");
    assert.deepEqual(ruleOf(g), 'commands.deny_glob = "git push *--force*"');
    assert.equal(evaluateCommand(r, "git push origin main").verdict, "allow");
    const x = evaluateCommand(r, ["npm", "publish", "--tag", "x"]);
    assert.deepEqual(ruleOf(x), 'commands.deny_regex = "^npm\\s+publish\\b"');
    assert.equal(evaluateCommand(r, "npm publisher").verdict, "allow");
  });

  test("with allow rules, only matching commands run; deny wins over allow", () => {
    const r = rules({ allow_list: ["ls", "git", "echo"], allow_glob: ["cargo test*"], deny_list: ["git"] });
    assert.equal(evaluateCommand(r, "ls -la && echo hi 2>&1").verdict, "allow");
    // Text around a substitution stays with its command; arithmetic runs nothing.
    assert.equal(evaluateCommand(r, 'ls "$(echo src)"/x && echo $((1+2)) "n=$(ls | echo)"').verdict, "allow");
    assert.equal(evaluateCommand(r, "cargo test --all").verdict, "allow", "allowed by glob");
    const unlisted = evaluateCommand(r, "ls; python x.py");
    assert.equal(unlisted.verdict, "deny");
    assert.match(reasonOf(unlisted), /`python` matches no allow rule/);
    const both = evaluateCommand(r, "git status");
    assert.deepEqual(ruleOf(both), 'commands.deny_list = "git"', "deny wins");
    assert.equal(evaluateCommand(rules({ allow_regex: ["^make( |$)"] }), "make all").verdict, "allow");
    assert.equal(evaluateCommand(rules({ allow_regex: ["^make( |$)"] }), "makeitso").verdict, "deny");
  });

  test("programNames skips assignments, redirections and keywords; follows wrappers", () => {
    assert.deepEqual(programNames("A=1 B=2 >out ls 2>&1 | if true; then nohup rm x; fi"), [
      "ls",
      "true",
      "nohup",
      "rm",
    ]);
  });
});

describe("regexes are validated once, at config load", () => {
  test("a bad regex is a config error naming file, line and key", () => {
    const text = `[commands]\nallow_regex = ["^ok$"]\ndeny_regex = ["fine", "(unclosed"]\n`;
    assert.throws(
      () => parseConfig(text, "/ws/vtcode.toml"),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1);
        assert.match(
          err.problems[0] ?? "",
          /^line 3: commands\.deny_regex\[1\] "\(unclosed" is not a valid regex/,
        );
        return true;
      },
    );
  });

  test("catastrophic patterns cannot hang the daemon (RE2 runs in linear time)", () => {
    const re = compileCommandRegex("^(a+)+$");
    assert.equal(re.test(`${"a".repeat(50_000)}!`), false);
  });

  test("backreferences and lookarounds are refused under RE2 with a message", () => {
    assert.throws(
      () => parseConfig(`[commands]\ndeny_regex = ["(?=x)"]\n`, "vtcode.toml"),
      /deny_regex\[0\].*not a valid regex/,
    );
  });
});

describe("a broken config never falls back to defaults", () => {
  test("vtcode.toml as a dangling symlink is an error, not an absent file", async () => {
    const { mkdtemp, rm, symlink } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { loadConfig } = await import("../../src/config/load.js");
    const dir = await mkdtemp(path.join(os.tmpdir(), "toold-cfg-link-"));
    try {
      await symlink("gone.toml", path.join(dir, "vtcode.toml"));
      await assert.rejects(loadConfig(dir), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /vtcode\.toml:\n {2}is a symlink whose target does not exist/);
        return true;
      });
      await rm(path.join(dir, "vtcode.toml"));
      assert.equal((await loadConfig(dir)).file, undefined, "a truly absent file gives the defaults");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("property: a denied program is caught wherever it sits in a shell line", () => {
  test("deny_list wins over any allow rule, in any position, after any separator", async () => {
    const fc = (await import("fast-check")).default;
    const program = fc.constantFrom("ls", "echo", "git", "cat", "grep");
    const arg = fc.constantFrom("-la", "x.txt", "'a b'", '"c;d"', "src/", "2>&1", ">out");
    const simple = fc.tuple(program, fc.array(arg, { maxLength: 3 })).map(([p, a]) => [p, ...a].join(" "));
    const sep = fc.constantFrom("; ", " && ", " || ", " | ", "\n", " & ");
    const denied = fc.constantFrom(
      "rm -rf x",
      "/bin/rm x",
      "FOO=1 rm x",
      "sudo rm x",
      "env rm x",
      "$(rm x)",
      "`rm x`",
      "(rm x)",
    );
    const r = rules({
      deny_list: ["rm"],
      allow_list: ["ls", "echo", "git", "cat", "grep", "rm", "sudo", "env"],
      allow_glob: ["*"],
    });
    fc.assert(
      fc.property(
        fc.array(simple, { maxLength: 4 }),
        denied,
        fc.nat(),
        fc.array(sep, { minLength: 5, maxLength: 5 }),
        (cmds, bad, at, seps) => {
          const parts = [...cmds];
          parts.splice(at % (parts.length + 1), 0, bad);
          const line = parts.map((p, i) => (i === 0 ? p : `${seps[i % 5]}${p}`)).join("");
          const d = evaluateCommand(r, line);
          assert.equal(d.verdict, "deny", line);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("text inside quotes is never taken for a program", async () => {
    const fc = (await import("fast-check")).default;
    const r = rules({ deny_list: ["rm"] });
    fc.assert(
      fc.property(
        fc.constantFrom("'", '"'),
        fc.constantFrom("rm", "; rm x", "&& rm -rf /", "| rm"),
        (q, inner) => {
          const line = `echo ${q}${inner}${q}`;
          assert.equal(evaluateCommand(r, line).verdict, "allow", line);
        },
      ),
    );
  });
});
