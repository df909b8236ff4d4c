//! Policy decision contract, mirroring `contracts/policy-decision.ts`: `PolicyInput` (what the
//! gateway asks) and `PolicyDecision` (allow | deny | ask_user with reasons and obligations).

use serde::{Deserialize, Serialize};

use super::common::{
    contract_struct, DataClass, Id, JsonObject, Message, Name128, Name2048, Name256, Principal,
    ProviderId, Reason, SafeInt, Sha256Hex, Text4096, Timestamp, V1,
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
    #[serde(rename = "approvals/resolve")]
    ApprovalsResolve,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Tool,
    Prompt,
    Resource,
    Model,
}

contract_struct! {
    /// MCP tool annotations under MCP's names; unknown members pass through in `extra`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct ToolAnnotations {
        pub title?: String,
        #[serde(rename = "readOnlyHint")]
        pub read_only_hint?: bool,
        #[serde(rename = "destructiveHint")]
        pub destructive_hint?: bool,
        #[serde(rename = "idempotentHint")]
        pub idempotent_hint?: bool,
        #[serde(rename = "openWorldHint")]
        pub open_world_hint?: bool,
        #[serde(flatten)]
        pub extra: JsonObject,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetProvider {
    pub id: ProviderId,
    pub local: bool,
}

contract_struct! {
    /// What a document is about, with the kinds `K` its contract admits: `PolicyTarget` here,
    /// `AuditTarget` (which adds administrative objects) in the tool execution contract.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Target<K> {
        pub kind: K,
        pub name: Name2048,
        pub server?: Id,
        pub annotations?: ToolAnnotations,
        pub definition_hash?: Sha256Hex,
        pub changed?: bool,
        pub provider?: TargetProvider,
        pub model?: Name256,
    }
}

/// What a policy decision is about.
pub type PolicyTarget = Target<TargetKind>;

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

contract_struct! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PolicyContext {
        pub time: Timestamp,
        pub request_id: Id,
        pub transport: Transport,
        pub session?: Id,
    }
}

contract_struct! {
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
        pub findings?: Vec<Finding>,
        pub context: PolicyContext,
    }
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

contract_struct! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Obligations {
        pub redact?: Vec<DataClass>,
        pub audit_level?: AuditLevel,
        pub rate_limit?: RateLimit,
        pub timeout_ms?: SafeInt<1, 3_600_000>,
    }
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

contract_struct! {
    /// Result of one policy decision.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PolicyDecision {
        pub v: V1,
        pub decision: Decision,
        pub reasons: Vec<Reason>,
        pub obligations: Obligations,
        pub ask?: Ask,
        pub cacheable?: bool,
    }
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
