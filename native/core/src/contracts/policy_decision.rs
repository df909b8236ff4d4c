//! Policy decision contract, mirroring `contracts/policy-decision.ts`: `PolicyInput` (what the
//! gateway asks) and `PolicyDecision` (allow | deny | ask_user with reasons and obligations).

use serde::{Deserialize, Serialize};

use super::common::{
    present, DataClass, Id, JsonObject, Message, Name128, Name2048, Name256, Principal, ProviderId,
    Reason, SafeInt, Sha256Hex, Text4096, Timestamp, V1,
};
use super::Document;

/// What is being asked of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyAction {
    #[serde(rename = "tools/call")]
    ToolsCall,
    #[serde(rename = "tools/list")]
    ToolsList,
    #[serde(rename = "prompts/get")]
    PromptsGet,
    #[serde(rename = "prompts/list")]
    PromptsList,
    #[serde(rename = "resources/read")]
    ResourcesRead,
    #[serde(rename = "resources/list")]
    ResourcesList,
    #[serde(rename = "model/call")]
    ModelCall,
    #[serde(rename = "model/list")]
    ModelList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Tool,
    Prompt,
    Resource,
    Model,
}

/// MCP tool annotations under MCP's names; unknown members pass through in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub title: Option<String>,
    #[serde(
        rename = "readOnlyHint",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub read_only_hint: Option<bool>,
    #[serde(
        rename = "destructiveHint",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub destructive_hint: Option<bool>,
    #[serde(
        rename = "idempotentHint",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub idempotent_hint: Option<bool>,
    #[serde(
        rename = "openWorldHint",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub open_world_hint: Option<bool>,
    #[serde(flatten)]
    pub extra: JsonObject,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetProvider {
    pub id: ProviderId,
    pub local: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTarget {
    pub kind: TargetKind,
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

/// One sanitizer finding; `path` is a JSON Pointer into the arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub class: DataClass,
    pub detector: Name128,
    pub path: Message,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Stdio,
    Http,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyContext {
    pub time: Timestamp,
    pub request_id: Id,
    pub transport: Transport,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub session: Option<Id>,
}

/// Input to one policy decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub v: V1,
    pub action: PolicyAction,
    pub principal: Principal,
    pub target: PolicyTarget,
    pub arguments: JsonObject,
    pub data_classes: Vec<DataClass>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub findings: Option<Vec<Finding>>,
    pub context: PolicyContext,
}

impl Document for PolicyInput {
    const NAME: &'static str = "PolicyInput";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditLevel {
    Minimal,
    Standard,
    Full,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub limit: SafeInt<1, 1_000_000_000>,
    pub window_s: SafeInt<1, 86_400>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligations {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub redact: Option<Vec<DataClass>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub audit_level: Option<AuditLevel>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub rate_limit: Option<RateLimit>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub timeout_ms: Option<SafeInt<1, 3_600_000>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    pub prompt: Text4096,
    pub ttl_s: SafeInt<1, 86_400>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    AskUser,
}

/// Result of one policy decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDecision {
    pub v: V1,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    pub obligations: Obligations,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub ask: Option<Ask>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub cacheable: Option<bool>,
}

impl Document for PolicyDecision {
    const NAME: &'static str = "PolicyDecision";
    fn check(&self) -> Result<(), String> {
        if self.decision == Decision::AskUser && self.ask.is_none() {
            return Err("ask: decision ask_user requires 'ask'".into());
        }
        Ok(())
    }
}
