#include "storage/postgres/record_columns.h"

#include <utility>

#include "storage/postgres/pg_connection.h"
#include "storage/stored_values.h"

namespace ksdb::storage::postgres {

Result<RecordRow> ReadRecordColumns(const PGresult* result, int row,
                                    const std::string& collection_id) {
  StoredRecordColumns columns;
  columns.record_id = GetText(result, row, 0);
  Result<int64_t> ints[4] = {GetInt64(result, row, 1), GetInt64(result, row, 2),
                             GetInt64(result, row, 7), GetInt64(result, row, 8)};
  for (const Result<int64_t>& value : ints) {
    if (!value.ok())
      return value.status();
  }
  columns.position = *ints[0];
  columns.seq = *ints[1];
  columns.created_at_us = *ints[2];
  columns.updated_at_us = *ints[3];
  columns.embedding = GetBytes(result, row, 3);
  columns.document = GetOptionalText(result, row, 4);
  columns.uri = GetOptionalText(result, row, 5);
  columns.metadata = GetBytes(result, row, 6);
  return DecodeRecordRow(std::move(columns), collection_id);
}

}  // namespace ksdb::storage::postgres
