// Reading a records row (the column order of statements.h's record
// selects: record_id, position, seq, embedding, document, uri, metadata,
// created_at_us, updated_at_us) from a binary-format libpq result.
#ifndef KSDB_STORAGE_POSTGRES_RECORD_COLUMNS_H_
#define KSDB_STORAGE_POSTGRES_RECORD_COLUMNS_H_

#include <libpq-fe.h>

#include <string>

#include "common/result.h"
#include "storage/record_store.h"

namespace ksdb::storage::postgres {

// Row `row` of `result` as a RecordRow of `collection_id`; Corruption when a
// column does not decode (the caller adds the store's name).
Result<RecordRow> ReadRecordColumns(const PGresult* result, int row,
                                    const std::string& collection_id);

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_RECORD_COLUMNS_H_
