//! Workspace session contract, mirroring `contracts/workspace-session.ts`: one `SessionEvent`
//! per terminal, browser or file action and per gateway call/approval event. Each kind fixes the
//! members its `data` must have; further members pass through.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::common::{
    contract_struct, Id, JsonObject, Millis, Name128, SafeInt, Timestamp, ToolName,
    MAX_SAFE_INTEGER, V1,
};
use super::tool_execution::ToolCallStatus;
use super::Document;

super::common::checked_string!(
    /// A path of at most 4096 units.
    PathString, 1, 4096, None, "a non-empty path");
super::common::checked_string!(
    /// A URL of at most 8192 units.
    UrlString, 1, 8192, None, "a non-empty URL");
super::common::checked_string!(
    /// The prompt name, resource URI or tool name a call event is about (at most 8192 units).
    CallTarget, 1, 8192, None, "a non-empty call target");

/// What a gateway call event is about (optional `target_kind`, added in v1). For prompts and
/// resources `tool` names the MCP method and `target` the prompt name or resource URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallTargetKind {
    Tool,
    Prompt,
    Resource,
}

type Count = SafeInt<0, MAX_SAFE_INTEGER>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionEventKind {
    #[serde(rename = "terminal.input")]
    TerminalInput,
    #[serde(rename = "terminal.output")]
    TerminalOutput,
    #[serde(rename = "browser.navigate")]
    BrowserNavigate,
    #[serde(rename = "browser.action")]
    BrowserAction,
    #[serde(rename = "file.read")]
    FileRead,
    #[serde(rename = "file.write")]
    FileWrite,
    #[serde(rename = "file.search")]
    FileSearch,
    #[serde(rename = "call.started")]
    CallStarted,
    #[serde(rename = "call.completed")]
    CallCompleted,
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    #[serde(rename = "approval.resolved")]
    ApprovalResolved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Declares the `data` struct of one event kind (loose: extra members kept in `extra`). Members
/// are written as for `contract_struct!`, each followed by a comma.
macro_rules! event_data {
    ($name:ident { $($body:tt)* }) => {
        contract_struct! {
            #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $($body)*
                #[serde(flatten)]
                pub extra: JsonObject,
            }
        }
    };
}

event_data!(TerminalInput { pub text: String, });
event_data!(TerminalOutput { pub text: String, pub stream?: OutputStream, });
event_data!(BrowserNavigate { pub url: UrlString, });
event_data!(BrowserAction { pub action: Name128, pub selector?: String, });
event_data!(FileAccess { pub path: PathString, pub bytes?: Count, });
event_data!(FileSearch { pub query: String, pub root?: PathString, pub matches?: Count, });
event_data!(CallStarted {
    pub call_id: Id,
    pub tool: ToolName,
    pub target_kind?: CallTargetKind,
    pub target?: CallTarget,
});
event_data!(CallCompleted {
    pub call_id: Id,
    pub tool: ToolName,
    pub status: ToolCallStatus,
    pub total_ms?: Millis,
    pub target_kind?: CallTargetKind,
    pub target?: CallTarget,
});
event_data!(ApprovalRequested {
    pub approval_id: Id,
    pub tool: ToolName,
    pub expires_at: Timestamp,
    pub target_kind?: CallTargetKind,
    pub target?: CallTarget,
});
event_data!(ApprovalResolved { pub approval_id: Id, pub granted: bool, pub by: Id, });

/// The typed `data` of an event.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEventData {
    TerminalInput(TerminalInput),
    TerminalOutput(TerminalOutput),
    BrowserNavigate(BrowserNavigate),
    BrowserAction(BrowserAction),
    FileRead(FileAccess),
    FileWrite(FileAccess),
    FileSearch(FileSearch),
    CallStarted(CallStarted),
    CallCompleted(CallCompleted),
    ApprovalRequested(ApprovalRequested),
    ApprovalResolved(ApprovalResolved),
}

/// One event of a workspace session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionEvent {
    pub v: V1,
    pub session: Id,
    pub seq: Count,
    pub ts: Timestamp,
    pub kind: SessionEventKind,
    pub data: JsonObject,
}

fn typed<T: DeserializeOwned>(data: &JsonObject) -> Result<T, String> {
    T::deserialize(data).map_err(|e| format!("data: {e}"))
}

impl SessionEvent {
    /// `data` checked and typed according to `kind`.
    pub fn typed_data(&self) -> Result<SessionEventData, String> {
        use SessionEventKind as K;
        let d = &self.data;
        Ok(match self.kind {
            K::TerminalInput => SessionEventData::TerminalInput(typed(d)?),
            K::TerminalOutput => SessionEventData::TerminalOutput(typed(d)?),
            K::BrowserNavigate => SessionEventData::BrowserNavigate(typed(d)?),
            K::BrowserAction => SessionEventData::BrowserAction(typed(d)?),
            K::FileRead => SessionEventData::FileRead(typed(d)?),
            K::FileWrite => SessionEventData::FileWrite(typed(d)?),
            K::FileSearch => SessionEventData::FileSearch(typed(d)?),
            K::CallStarted => SessionEventData::CallStarted(typed(d)?),
            K::CallCompleted => SessionEventData::CallCompleted(typed(d)?),
            K::ApprovalRequested => SessionEventData::ApprovalRequested(typed(d)?),
            K::ApprovalResolved => SessionEventData::ApprovalResolved(typed(d)?),
        })
    }
}

impl Document for SessionEvent {
    const NAME: &'static str = "SessionEvent";
    fn check(&self) -> Result<(), String> {
        self.typed_data().map(|_| ())
    }
}
