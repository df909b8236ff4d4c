//! Model routing contract, mirroring `contracts/model-routing.ts`: `ProviderConfig` (with a
//! credential reference, never the secret), `Route` and `RedactionPolicy`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::{
    checked_string, contract_struct, DataClass, Id, Name128, Name256, ProviderId, SafeInt, V1,
};
use super::Document;

checked_string!(
    /// `env:NAME` or `file:path`, resolved at use.
    CredentialRef, 0, usize::MAX,
    Some(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:[^\x00-\x1f]+)$"), "a secret reference such as env:NAME or file:path");
checked_string!(
    /// An http(s) URL without spaces or control characters.
    BaseUrl, 0, 2048, Some(r"^https?://[^\x00-\x20\x7f]+$"), "an http(s) URL");
checked_string!(
    /// A sanitizer detector name.
    DetectorName, 0, usize::MAX, Some(r"^[a-z][a-z0-9_.-]{0,63}$"), "a detector name");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    OpenaiCompatible,
}

impl ProviderKind {
    /// The wire APIs this kind can speak; the first is its default.
    pub fn apis(self) -> &'static [ProviderApi] {
        match self {
            ProviderKind::Openai => &[ProviderApi::ChatCompletions, ProviderApi::Responses],
            ProviderKind::OpenaiCompatible => &[ProviderApi::ChatCompletions],
            ProviderKind::Anthropic => &[ProviderApi::Messages],
        }
    }
}

/// The wire API a provider is called with (absent: the kind's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderApi {
    ChatCompletions,
    Responses,
    Messages,
}

type TimeoutMs = SafeInt<1, 3_600_000>;

contract_struct! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ProviderTimeouts {
        pub connect_ms?: TimeoutMs,
        pub first_token_ms?: TimeoutMs,
        pub idle_ms?: TimeoutMs,
        pub request_ms?: TimeoutMs,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    ConnectError,
    Timeout,
    RateLimited,
    ServerError,
}

contract_struct! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RetryPolicy {
        pub max_attempts: SafeInt<1, 10>,
        pub backoff_ms: SafeInt<0, 60_000>,
        pub retry_on?: Vec<RetryOn>,
    }
}

contract_struct! {
    /// One model provider.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ProviderConfig {
        pub v: V1,
        pub id: ProviderId,
        pub kind: ProviderKind,
        pub base_url: BaseUrl,
        pub credential?: CredentialRef,
        pub models: Vec<Name256>,
        pub local: bool,
        pub timeouts?: ProviderTimeouts,
        pub retry?: RetryPolicy,
        pub weight?: SafeInt<0, 10_000>,
        pub api?: ProviderApi,
    }
}

impl Document for ProviderConfig {
    const NAME: &'static str = "ProviderConfig";
    fn check(&self) -> Result<(), String> {
        non_empty(&self.models, "models")?;
        match self.api {
            Some(api) if !self.kind.apis().contains(&api) => Err(format!(
                "api: {api:?} is not spoken by kind {:?}",
                self.kind
            )),
            _ => Ok(()),
        }
    }
}

contract_struct! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RouteTarget {
        pub provider: ProviderId,
        pub model: Name256,
        pub weight?: SafeInt<0, 10_000>,
    }
}

contract_struct! {
    /// All present criteria must hold; an empty match matches every request.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RouteMatch {
        pub models?: Vec<Name256>,
        pub principals?: Vec<Id>,
        pub roles?: Vec<Name128>,
        pub data_classes?: Vec<DataClass>,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteStrategy {
    Priority,
    Weighted,
    RoundRobin,
    Single,
    Fallback,
    LeastLatency,
}

contract_struct! {
    /// How model requests are routed to providers.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Route {
        pub v: V1,
        pub id: Id,
        #[serde(rename = "match")]
        pub match_: RouteMatch,
        pub targets: Vec<RouteTarget>,
        pub strategy: RouteStrategy,
        pub fallbacks?: Vec<RouteTarget>,
    }
}

impl Document for Route {
    const NAME: &'static str = "Route";
    fn check(&self) -> Result<(), String> {
        non_empty(&self.targets, "targets")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionAction {
    Mask,
    Hash,
    Block,
    Reversible,
}

/// What is redacted before text leaves for a model provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionPolicy {
    pub v: V1,
    pub id: Id,
    pub detectors: Vec<DetectorName>,
    pub action: RedactionAction,
    /// Data class → providers that may receive text of that class unredacted.
    pub allowed_providers: BTreeMap<DataClass, Vec<ProviderId>>,
}

impl Document for RedactionPolicy {
    const NAME: &'static str = "RedactionPolicy";
    fn check(&self) -> Result<(), String> {
        non_empty(&self.detectors, "detectors")
    }
}

fn non_empty<T>(items: &[T], member: &str) -> Result<(), String> {
    if items.is_empty() {
        return Err(format!("{member}: expected at least one item"));
    }
    Ok(())
}
