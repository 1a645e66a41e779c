/**
 * A call's AbortSignal, made on first use. Most calls never look at it (a read_file served from
 * the cache), and an AbortController with its listeners on the cancellation token and on the
 * connection's close cost ~3 % of the daemon's CPU per call. What the signal reports is the same
 * as if it had been made when the call started: a cancel or a closed connection that came before
 * the first use aborts it as it is made, and one that comes after aborts it then.
 */
import type { CancellationToken, Disposable } from "vscode-jsonrpc";

const cancelledByCaller = () => new Error("cancelled by the caller");
const connectionClosed = () => new Error("the connection closed");

export class CallSignal {
  private controller: AbortController | undefined;
  private cancelListener: Disposable | undefined;
  private closeListener: (() => void) | undefined;
  private ended = false;
  private endedAborted: (() => Error) | undefined;

  constructor(
    /** The request's token: `$/cancelRequest` cancels it. */
    private readonly token: CancellationToken,
    /** The connection's: aborted when it closes (or the daemon stops waiting at shutdown). */
    private readonly closed: AbortSignal,
  ) {}

  /** The signal the tool sees (`ctx.signal`). */
  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    const why = this.why();
    if (why) controller.abort(why());
    else if (!this.ended) {
      this.cancelListener = this.token.onCancellationRequested(() => controller.abort(cancelledByCaller()));
      this.closeListener = () => controller.abort(connectionClosed());
      this.closed.addEventListener("abort", this.closeListener, { once: true });
    }
    return controller.signal;
  }

  /** Whether the call has been cancelled or its connection closed, without making the signal. */
  get aborted(): boolean {
    return this.controller ? this.controller.signal.aborted : this.why() !== undefined;
  }

  /** The reason the call stands aborted, if it does (frozen once the call ended). */
  private why(): (() => Error) | undefined {
    if (this.ended) return this.endedAborted;
    if (this.token.isCancellationRequested) return cancelledByCaller;
    return this.closed.aborted ? connectionClosed : undefined;
  }

  /**
   * The call is over: what happens to its request or connection from now on is not its concern
   * (a signal first asked for later keeps the state the call ended in, as a signal made at the
   * start and detached at the end would).
   */
  dispose(): void {
    if (this.ended) return;
    this.endedAborted = this.why();
    this.ended = true;
    this.cancelListener?.dispose();
    if (this.closeListener) this.closed.removeEventListener("abort", this.closeListener);
  }
}
