/**
 * The live feed of workspace changes (`workspace/subscribe` → `workspace/didChange`). The watcher
 * (src/index) reports every change, whoever made it; the journal reports the changes made through
 * toold itself, with their entry id (so they are seen where no watch is: ignored folders, `[cache]
 * watch = false`), and opens an attribution window on the paths a call changes, in which the
 * watcher's echo of a reported path is dropped and its other events carry the entry id.
 *
 * Per subscriber, changes are coalesced by path for `coalesce_ms` and sent as one notification.
 * Memory is bounded twice: at most `max_pending_paths` paths wait (more collapse into one
 * "overflow": re-read everything), and at most `max_backlog_bytes` of notifications may sit
 * unwritten in the connection; a reader that falls further behind is dropped (told so in one last
 * notification) instead of growing the daemon.
 */
import type {
  FeedStats,
  WorkspaceChange,
  WorkspaceChangeKind,
  WorkspaceDidChangeParams,
} from "../protocol/methods.js";
import { isTempName } from "../support/fs-atomic.js";
import { isUnder } from "./capture.js";

export interface FeedLimits {
  readonly coalesceMs: number;
  readonly maxPendingPaths: number;
  readonly maxBacklogBytes: number;
}

/** How long after a toold change its watcher events are still attributed to its entry. */
const ATTRIBUTION_GRACE_MS = 1000;

interface Subscriber {
  readonly send: (params: WorkspaceDidChangeParams) => Promise<void>;
  pending: Map<string, WorkspaceChange>;
  overflow: boolean;
  timer: NodeJS.Timeout | undefined;
  backlogBytes: number;
}

interface Attribution {
  readonly id: number;
  /** Infinity while the change runs; a deadline once it is done. */
  until: number;
  /** Paths the journal reported itself: the watcher's next event for each is its echo. */
  readonly reported: Set<string>;
}

function merge(prev: WorkspaceChangeKind, next: WorkspaceChangeKind): WorkspaceChangeKind {
  if (prev === "created" && next === "changed") return "created";
  if (prev === "deleted" && next === "created") return "changed";
  return next;
}

export class ChangeFeed {
  private readonly subscribers = new Map<object, Subscriber>();
  private readonly attributions = new Map<string, Attribution>();
  private sent = 0;
  private dropped = 0;

  constructor(
    private readonly limits: () => FeedLimits,
    /** True while a healthy watcher feeds `publish`; otherwise the journal's own changes are published. */
    private readonly watcher: () => boolean = () => false,
  ) {}

  get watching(): boolean {
    return this.watcher();
  }

  /** Starts sending `key`'s connection notifications through `send`. Idempotent per key. */
  /** Returns false when `key` was subscribed already. */
  subscribe(key: object, send: (params: WorkspaceDidChangeParams) => Promise<void>): boolean {
    if (this.subscribers.has(key)) return false;
    this.subscribers.set(key, {
      send,
      pending: new Map(),
      overflow: false,
      timer: undefined,
      backlogBytes: 0,
    });
    return true;
  }

  unsubscribe(key: object): void {
    const sub = this.subscribers.get(key);
    if (!sub) return;
    if (sub.timer) clearTimeout(sub.timer);
    this.subscribers.delete(key);
  }

  /** Changes seen by the watcher (any writer); those inside an attribution window get its id. */
  publish(changes: readonly { path: string; kind: WorkspaceChangeKind }[]): void {
    if (this.subscribers.size === 0) return;
    const now = Date.now();
    const out: WorkspaceChange[] = [];
    for (const change of changes) {
      const name = change.path.slice(change.path.lastIndexOf("/") + 1);
      if (isTempName(name)) continue; // an atomic write's temp file, renamed away at once
      const a = this.attributionOf(change.path, now);
      if (a?.reported.delete(change.path)) continue; // the journal reported this one already
      out.push(a === undefined ? { ...change } : { ...change, changeId: a.id });
    }
    this.deliver(out);
  }

  /** A toold change to these roots is about to run: attribute their watcher events to `id`. */
  expect(roots: readonly string[], id: number): void {
    if (this.subscribers.size === 0) return; // nobody to tell: keep nothing
    this.attributionOf("", Date.now()); // sweeps expired windows
    for (const root of roots) this.attributions.set(root, { id, until: Infinity, reported: new Set() });
  }

  /**
   * The change is done: report what it changed (also where no watch sees it: ignored folders,
   * a watcher that lost its watches), and close its windows after a short grace, in which the
   * watcher's echo of each reported path is dropped once.
   */
  settle(
    roots: readonly string[],
    id: number,
    changes: readonly { path: string; kind: WorkspaceChangeKind }[],
  ): void {
    const until = Date.now() + ATTRIBUTION_GRACE_MS;
    for (const root of roots) {
      const a = this.attributions.get(root);
      if (a?.id !== id) continue;
      if (this.subscribers.size === 0) {
        this.attributions.delete(root);
        continue;
      }
      a.until = until;
      for (const c of changes) if (isUnder(root, c.path)) a.reported.add(c.path);
    }
    this.deliver(changes.map((c) => ({ ...c, changeId: id })));
  }

  private attributionOf(p: string, now: number): Attribution | undefined {
    // Expired windows are swept here, lazily: the map holds at most the roots of recent changes.
    let found: Attribution | undefined;
    for (const [root, a] of this.attributions) {
      if (a.until < now) {
        this.attributions.delete(root);
        continue;
      }
      if (isUnder(root, p) && (!found || a.id > found.id)) found = a;
    }
    return found;
  }

  private deliver(changes: readonly WorkspaceChange[]): void {
    if (changes.length === 0) return;
    const limits = this.limits();
    for (const [key, sub] of this.subscribers) {
      if (!sub.overflow) {
        for (const change of changes) {
          const prev = sub.pending.get(change.path);
          sub.pending.set(change.path, prev ? { ...change, kind: merge(prev.kind, change.kind) } : change);
        }
        if (sub.pending.size > limits.maxPendingPaths) {
          sub.overflow = true;
          sub.pending.clear();
        }
      }
      sub.timer ??= setTimeout(() => this.flush(key, sub), limits.coalesceMs);
    }
  }

  private flush(key: object, sub: Subscriber): void {
    sub.timer = undefined;
    if (this.subscribers.get(key) !== sub) return;
    const changes: WorkspaceChange[] = sub.overflow
      ? [{ path: ".", kind: "overflow" }]
      : [...sub.pending.values()];
    sub.pending = new Map();
    sub.overflow = false;
    if (changes.length === 0) return;
    let params: WorkspaceDidChangeParams = { changes };
    let bytes = JSON.stringify(params).length;
    if (sub.backlogBytes + bytes > this.limits().maxBacklogBytes) {
      // The client does not read: stop before its unwritten notifications grow the daemon.
      this.unsubscribe(key);
      this.dropped++;
      params = {
        changes: [{ path: ".", kind: "overflow" }],
        dropped: `the client read notifications too slowly (more than ${this.limits().maxBacklogBytes} bytes waiting); subscribe again and re-read everything`,
      };
      bytes = JSON.stringify(params).length;
    }
    sub.backlogBytes += bytes;
    this.sent++;
    const done = () => {
      sub.backlogBytes -= bytes;
    };
    sub.send(params).then(done, done);
  }

  stats(): FeedStats {
    let backlogBytes = 0;
    for (const sub of this.subscribers.values()) backlogBytes += sub.backlogBytes;
    return { subscribers: this.subscribers.size, sent: this.sent, dropped: this.dropped, backlogBytes };
  }

  dispose(): void {
    for (const key of [...this.subscribers.keys()]) this.unsubscribe(key);
    this.attributions.clear();
  }
}
