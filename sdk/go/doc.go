// Package jianguan reports a generative-AI service's telemetry to the jianguan platform: events
// sealed into a tamper-evident hash chain (docs/chain.md), batched, delivered with retries over
// gRPC, each answered by the gateway with its own outcome.
//
// The generated contract lives in the jianguanv1 package beside this one. A reporter seals every
// event into the chain of its service (and of the reporter's stream, for replicas), so the chain
// state is the reporter's: one Reporter per process and stream. On opening, a reporter checks its
// credential (GetSession) and continues each chain where the platform holds it (GetChainHeads),
// so a process that lost its state does not fork its chains.
//
// Events wait in memory until the gateway answers them: a process that stops before then loses
// the events it had not delivered (Close waits for them). Event ids are idempotency keys: an
// event sent again, because an answer was lost, is answered DUPLICATE and stored once.
package jianguan
