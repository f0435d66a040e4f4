// The audit log's hash chain and checkpoint message (docs/audit.md), shared
// by every store backend that appends and by audit/verify.cc that checks.
//
//   hash(0) = 32 zero bytes
//   hash(n) = SHA-256(hash(n-1) || seq n as 8-byte big-endian || record bytes)
//
// A checkpoint signs CheckpointMessage(seq, time, head) with the node's
// Ed25519 audit key.
//
// Thread safety: pure functions; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crs::store {

inline constexpr size_t kAuditHashSize = 32;

// 32 zero bytes: the hash before the first record.
const std::string& AuditZeroHash();

// hash(seq) from hash(seq-1) = `prev` (32 bytes). Returns 32 raw bytes.
std::string AuditChainHash(std::string_view prev, int64_t seq, std::string_view record);
// The same into `out` (32 bytes), without allocating: for verification.
void AuditChainHash(std::string_view prev, int64_t seq, std::string_view record, char* out);

// The bytes a checkpoint signature covers:
//   "opencrs-audit-checkpoint-v1\n" || seq BE64 || time_ms BE64 || head (32 bytes)
std::string AuditCheckpointMessage(int64_t seq, int64_t time_ms, std::string_view head_hash);

// Lower-case hex of `bytes` (hashes in messages and logs).
std::string AuditHex(std::string_view bytes);

}  // namespace crs::store
