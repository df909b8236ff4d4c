//! Tool execution contract, mirroring `contracts/tool-execution.ts`: `ToolCallRequest`,
//! `ToolCallResult` (MCP content under MCP's names) and the hash-chained `AuditEnvelope`.

use serde::{Deserialize, Serialize};

use super::common::{
    present, Id, JsonObject, Message, Millis, Name128, Name2048, Name256, Principal, Reason,
    SafeInt, Sha256Hex, Timestamp, ToolName, MAX_SAFE_INTEGER, V1,
};
use super::policy_decision::{Decision, TargetProvider, ToolAnnotations};
use super::Document;

/// A request to call one tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallRequest {
    pub v: V1,
    pub id: Id,
    pub tool: ToolName,
    pub arguments: JsonObject,
    pub principal: Principal,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub session: Option<Id>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub deadline: Option<Timestamp>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub idempotency_key: Option<Name256>,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timings {
    pub total_ms: Millis,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub policy_ms: Option<Millis>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub upstream_ms: Option<Millis>,
}

/// The result of one tool call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallResult {
    pub v: V1,
    pub id: Id,
    pub status: ToolCallStatus,
    pub content: Vec<ContentBlock>,
    #[serde(
        rename = "structuredContent",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub structured_content: Option<JsonObject>,
    #[serde(
        rename = "isError",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub is_error: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub reasons: Option<Vec<Reason>>,
    pub timings: Timings,
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditTarget {
    pub kind: AuditTargetKind,
    pub name: Name2048,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub server: Option<Id>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub annotations: Option<ToolAnnotations>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub definition_hash: Option<Sha256Hex>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub changed: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub provider: Option<TargetProvider>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub model: Option<Name256>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditError {
    pub code: Name128,
    pub message: Message,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditOutcome {
    pub status: ToolCallStatus,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub error: Option<AuditError>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub result_digest: Option<Sha256Hex>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Decision,
    Outcome,
    Admin,
}

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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub session: Option<Id>,
    pub target: AuditTarget,
    pub args_digest: Sha256Hex,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub args_redacted: Option<JsonObject>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub decision: Option<Decision>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub reasons: Option<Vec<Reason>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub outcome: Option<AuditOutcome>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub timings: Option<Timings>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub policy_revision: Option<Name256>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub policy_hash: Option<Sha256Hex>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub context_hash: Option<Sha256Hex>,
}

impl Document for AuditEnvelope {
    const NAME: &'static str = "AuditEnvelope";
}
