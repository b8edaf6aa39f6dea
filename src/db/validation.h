// Input rules of the engine that do not depend on stored state: names (spec
// §4.3, §3), metadata keys, and the shape of a write batch. Every write is
// checked with these before any side effect.
#ifndef KSDB_DB_VALIDATION_H_
#define KSDB_DB_VALIDATION_H_

#include <string>

#include "common/status.h"
#include "core/metadata.h"
#include "core/records.h"

namespace ksdb::db {

// Tenant and database names: at least 3 characters (Chroma's only rule).
Status ValidateTenantName(const std::string& name);
Status ValidateDatabaseName(const std::string& name);

// Metadata keys must not start with "chroma:" (reserved, spec §12 #11); arrays
// must be non-empty; floats finite.
Status ValidateMetadata(const Metadata& metadata);
Status ValidateMetadataPatch(const MetadataPatch& patch);

enum class WriteKind { kAdd, kUpsert, kUpdate };

// Shape checks for a batch: non-empty ids, every present column has one entry
// per id, embeddings finite with dim >= 1, metadata valid, embeddings present
// for add/upsert (no nulls there). Duplicate ids are rejected for kAdd only.
Status ValidateWriteBatch(const WriteBatch& batch, WriteKind kind);

}  // namespace ksdb::db

#endif  // KSDB_DB_VALIDATION_H_
