//! Tool execution contract, mirroring `contracts/tool-execution.ts`: `ToolCallRequest`,
//! `ToolCallResult` (MCP content under MCP's names) and the hash-chained `AuditEnvelope`.

use serde::{Deserialize, Serialize};

use super::common::{
    contract_struct, Id, JsonObject, Message, Millis, Name128, Name256, Principal, Reason, SafeInt,
    Sha256Hex, Timestamp, ToolName, MAX_SAFE_INTEGER, V1,
};
use super::policy_decision::{Decision, Target};
use super::Document;

contract_struct! {
    /// A request to call one tool.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ToolCallRequest {
        pub v: V1,
        pub id: Id,
        pub tool: ToolName,
        pub arguments: JsonObject,
        pub principal: Principal,
        pub session?: Id,
        pub deadline?: Timestamp,
        pub idempotency_key?: Name256,
    }
}

impl Document for ToolCallRequest {
    const NAME: &'static str = "ToolCallRequest";
}

/// The `resource` member of an embedded resource; other members pass through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceContents {
    pub uri: String,
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An MCP content block; members MCP may add later pass through in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ContentBlock {
    #[serde(rename = "text")]
    Text {
        text: String,
        #[serde(flatten)]
        extra: JsonObject,
    },
    #[serde(rename = "image")]
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(flatten)]
        extra: JsonObject,
    },
    #[serde(rename = "audio")]
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(flatten)]
        extra: JsonObject,
    },
    #[serde(rename = "resource_link")]
    ResourceLink {
        uri: String,
        name: String,
        #[serde(flatten)]
        extra: JsonObject,
    },
    #[serde(rename = "resource")]
    Resource {
        resource: ResourceContents,
        #[serde(flatten)]
        extra: JsonObject,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallStatus {
    Ok,
    Error,
    Denied,
    PendingApproval,
    Timeout,
    Cancelled,
}

contract_struct! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Timings {
        pub total_ms: Millis,
        pub policy_ms?: Millis,
        pub upstream_ms?: Millis,
    }
}

contract_struct! {
    /// The result of one tool call.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ToolCallResult {
        pub v: V1,
        pub id: Id,
        pub status: ToolCallStatus,
        pub content: Vec<ContentBlock>,
        #[serde(rename = "structuredContent")]
        pub structured_content?: JsonObject,
        #[serde(rename = "isError")]
        pub is_error?: bool,
        pub reasons?: Vec<Reason>,
        pub timings: Timings,
    }
}

impl Document for ToolCallResult {
    const NAME: &'static str = "ToolCallResult";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditTargetKind {
    Tool,
    Prompt,
    Resource,
    Model,
    Bundle,
    Pin,
    Approval,
    Config,
}

/// What an audit record is about: a policy target or an administrative object.
pub type AuditTarget = Target<AuditTargetKind>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditError {
    pub code: Name128,
    pub message: Message,
}

/// Tokens a model call consumed, as the provider reported them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenUsage {
    pub input_tokens: SafeInt<0, MAX_SAFE_INTEGER>,
    pub output_tokens: SafeInt<0, MAX_SAFE_INTEGER>,
}

contract_struct! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct AuditOutcome {
        pub status: ToolCallStatus,
        pub error?: AuditError,
        pub result_digest?: Sha256Hex,
        pub usage?: TokenUsage,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Decision,
    Outcome,
    Admin,
}

contract_struct! {
    /// One hash-chained audit record.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct AuditEnvelope {
        pub v: V1,
        pub seq: SafeInt<0, MAX_SAFE_INTEGER>,
        pub id: Id,
        pub ts: Timestamp,
        pub prev_hash: Sha256Hex,
        pub hash: Sha256Hex,
        pub kind: AuditKind,
        pub principal: Principal,
        pub session?: Id,
        pub target: AuditTarget,
        pub args_digest: Sha256Hex,
        pub args_redacted?: JsonObject,
        pub decision?: Decision,
        pub reasons?: Vec<Reason>,
        pub outcome?: AuditOutcome,
        pub timings?: Timings,
        pub policy_revision?: Name256,
        pub policy_hash?: Sha256Hex,
        pub context_hash?: Sha256Hex,
    }
}

impl Document for AuditEnvelope {
    const NAME: &'static str = "AuditEnvelope";
}
