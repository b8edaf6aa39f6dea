#include "storage/open_store.h"

#include <utility>

#include "storage/postgres/postgres_store.h"
#include "storage/postgres/url.h"

namespace ksdb::storage {

bool IsPostgresLocation(const std::string& location) {
  return postgres::IsPostgresUrl(location);
}

Result<std::unique_ptr<RecordStore>> OpenRecordStore(const StoreOptions& options) {
  if (!IsPostgresLocation(options.location))
    return OpenSqliteStore(options.location, options.sqlite);
  KSDB_ASSIGN_OR_RETURN(postgres::ParsedUrl url,
                        postgres::ParsePostgresUrl(options.location, options.postgres_pool));
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<PostgresRecordStore> store,
                        OpenPostgresStore(url.connect, url.pool));
  return std::unique_ptr<RecordStore>(std::move(store));
}

}  // namespace ksdb::storage
