// Test environment: which server is under test and where it listens.
//
// CHROMA_URL    base URL of the server under test (default http://127.0.0.1:8000)
// KSDB_TARGET   "ksdb" or "reference" (default "reference")
// KSDB_BIN      path to the ksdb executable (restart tests start their own server)
// REFERENCE_URL base URL of a reference Chroma server (differential test only)

export const CHROMA_URL = (process.env.CHROMA_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
export const TARGET = process.env.KSDB_TARGET === 'ksdb' ? 'ksdb' : 'reference';
export const KSDB_BIN = process.env.KSDB_BIN || '';
export const REFERENCE_URL = (process.env.REFERENCE_URL || '').replace(/\/+$/, '');

// True when the server under test is ksdb. Only used where ksdb deliberately
// differs from the reference (CHROMA_API.md section 12).
export const isKsdb = TARGET === 'ksdb';

export const TENANT = 'default_tenant';
export const DATABASE = 'default_database';
export const DB = `/api/v2/tenants/${TENANT}/databases/${DATABASE}`;
