/** Approvals for ask_user decisions, bound to principal + tool + argument digest; see store.ts. */
export {
  type Approval,
  type ApprovalBinding,
  type ApprovalRequest,
  type ApprovalReuse,
  type ApprovalState,
  type ApprovalStatus,
  type ApprovalStore,
  InMemoryApprovalStore,
  type InMemoryApprovalStoreOptions,
  MAX_APPROVAL_TTL_S,
  SharedApprovalStore,
} from "./store.js";
