/**
 * The methods of `methods.ts` as vscode-jsonrpc RequestType/NotificationType constants, for the
 * daemon and for clients that use vscode-jsonrpc. Names and types come from `methods.ts` only.
 */
import { NotificationType, RequestType } from "vscode-jsonrpc";
import * as M from "./methods.js";

function rpcRequest<P, R>(decl: M.MethodDecl<P, R>): RequestType<P, R, void> {
  return new RequestType<P, R, void>(decl.method);
}
function rpcNotification<P>(decl: M.NotificationDecl<P>): NotificationType<P> {
  return new NotificationType<P>(decl.method);
}

export const InitializeRequest = rpcRequest(M.Initialize);
export const ToolsListRequest = rpcRequest(M.ToolsList);
export const ToolsCallRequest = rpcRequest(M.ToolsCall);
export const DaemonStatsRequest = rpcRequest(M.DaemonStats);
export const DaemonStatusRequest = rpcRequest(M.DaemonStatus);
export const ConfigGetRequest = rpcRequest(M.ConfigGet);
export const ConfigReloadRequest = rpcRequest(M.ConfigReload);
export const DaemonShutdownRequest = rpcRequest(M.DaemonShutdown);
export const ExecSessionsRequest = rpcRequest(M.ExecSessions);
export const ExecKillRequest = rpcRequest(M.ExecKill);
export const ClientApproveRequest = rpcRequest(M.ClientApprove);
export const ProgressNotification = rpcNotification(M.Progress);
export const JournalListRequest = rpcRequest(M.JournalList);
export const JournalUndoRequest = rpcRequest(M.JournalUndo);
export const WorkspaceSubscribeRequest = rpcRequest(M.WorkspaceSubscribe);
export const WorkspaceUnsubscribeRequest = rpcRequest(M.WorkspaceUnsubscribe);
export const WorkspaceDidChangeNotification = rpcNotification(M.WorkspaceDidChange);
