//! Rust mirror of the four frozen contracts in `contracts/` (zod is the source). Every document
//! accepted here is accepted by zod and vice versa; `conformance/contracts/` proves it on fixture
//! documents. Where serde and JavaScript differ by default this module follows JavaScript:
//! duplicate members → the last one wins (parse to a `Value` first), `1.0` is the integer 1,
//! integers beyond 2^53 − 1 are refused, `null` never stands for a missing optional member, string
//! lengths are UTF-16 code units, and nesting is bounded by `MAX_DOCUMENT_DEPTH`.

pub mod common;
pub mod model_routing;
pub mod policy_decision;
pub mod tool_execution;
pub mod workspace_session;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use common::MAX_DOCUMENT_DEPTH;
pub use model_routing::{ProviderConfig, RedactionPolicy, Route};
pub use policy_decision::{PolicyDecision, PolicyInput};
pub use tool_execution::{AuditEnvelope, ToolCallRequest, ToolCallResult};
pub use workspace_session::SessionEvent;

/// A top-level contract document.
pub trait Document: DeserializeOwned + Serialize {
    /// The type name, as in `contracts/schema/<NAME>.json`.
    const NAME: &'static str;
    /// Rules across members that serde's derive cannot express.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Every document type of the four contracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentType {
    ToolCallRequest,
    ToolCallResult,
    AuditEnvelope,
    ProviderConfig,
    Route,
    RedactionPolicy,
    SessionEvent,
    PolicyInput,
    PolicyDecision,
}

impl DocumentType {
    pub const ALL: [DocumentType; 9] = [
        DocumentType::ToolCallRequest,
        DocumentType::ToolCallResult,
        DocumentType::AuditEnvelope,
        DocumentType::ProviderConfig,
        DocumentType::Route,
        DocumentType::RedactionPolicy,
        DocumentType::SessionEvent,
        DocumentType::PolicyInput,
        DocumentType::PolicyDecision,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DocumentType::ToolCallRequest => ToolCallRequest::NAME,
            DocumentType::ToolCallResult => ToolCallResult::NAME,
            DocumentType::AuditEnvelope => AuditEnvelope::NAME,
            DocumentType::ProviderConfig => ProviderConfig::NAME,
            DocumentType::Route => Route::NAME,
            DocumentType::RedactionPolicy => RedactionPolicy::NAME,
            DocumentType::SessionEvent => SessionEvent::NAME,
            DocumentType::PolicyInput => PolicyInput::NAME,
            DocumentType::PolicyDecision => PolicyDecision::NAME,
        }
    }

    pub fn from_name(name: &str) -> Option<DocumentType> {
        DocumentType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Validates a parsed value as this document type.
    pub fn validate_value(self, value: Value) -> Result<(), String> {
        match self {
            DocumentType::ToolCallRequest => from_value::<ToolCallRequest>(value).map(drop),
            DocumentType::ToolCallResult => from_value::<ToolCallResult>(value).map(drop),
            DocumentType::AuditEnvelope => from_value::<AuditEnvelope>(value).map(drop),
            DocumentType::ProviderConfig => from_value::<ProviderConfig>(value).map(drop),
            DocumentType::Route => from_value::<Route>(value).map(drop),
            DocumentType::RedactionPolicy => from_value::<RedactionPolicy>(value).map(drop),
            DocumentType::SessionEvent => from_value::<SessionEvent>(value).map(drop),
            DocumentType::PolicyInput => from_value::<PolicyInput>(value).map(drop),
            DocumentType::PolicyDecision => from_value::<PolicyDecision>(value).map(drop),
        }
    }

    /// Parses JSON text and validates it as this document type.
    pub fn validate_json(self, text: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        self.validate_value(value)
    }
}

/// Parses JSON text into a checked document.
pub fn from_json<T: Document>(text: &str) -> Result<T, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("{}: not JSON: {e}", T::NAME))?;
    from_value(value)
}

/// Converts a parsed value into a checked document.
pub fn from_value<T: Document>(value: Value) -> Result<T, String> {
    check_depth(&value, 1).map_err(|e| format!("{}: {e}", T::NAME))?;
    let doc: T = serde_json::from_value(value).map_err(|e| format!("{}: {e}", T::NAME))?;
    doc.check().map_err(|e| format!("{}: {e}", T::NAME))?;
    Ok(doc)
}

fn check_depth(value: &Value, depth: usize) -> Result<(), String> {
    let children: Box<dyn Iterator<Item = &Value>> = match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(members) => Box::new(members.values()),
        _ => return Ok(()),
    };
    if depth > MAX_DOCUMENT_DEPTH {
        return Err(format!("nesting deeper than {MAX_DOCUMENT_DEPTH} levels"));
    }
    for child in children {
        check_depth(child, depth + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
