//! What a database's schema is, read back from the engine's catalogue, in a
//! form that compares across engines: tables with their columns (name,
//! type family, nullability) and secondary indexes (columns, uniqueness).
//! The schema test opens both engines and requires the two to be equal, so
//! the one migration source cannot translate into different schemas.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row as _;

use crate::{Backend, SqlStore};

/// A column's type, by family: the engines name the same storage differently
/// (`INTEGER` / `bigint`, `BLOB` / `bytea`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnType {
    /// A whole number.
    Integer,
    /// Text.
    Text,
    /// Bytes.
    Bytes,
    /// Anything else, which our migrations never write.
    Other,
}

impl ColumnType {
    fn of(declared: &str) -> ColumnType {
        match declared.to_ascii_lowercase().as_str() {
            "integer" | "bigint" | "int" | "int8" | "int4" | "smallint" => ColumnType::Integer,
            "text" | "character varying" | "varchar" => ColumnType::Text,
            "blob" | "bytea" => ColumnType::Bytes,
            _ => ColumnType::Other,
        }
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type family.
    pub kind: ColumnType,
    /// Whether it refuses NULL (primary-key columns always do).
    pub not_null: bool,
}

/// One secondary index or unique constraint (primary keys are left out:
/// SQLite's integer keys have none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Index {
    /// The indexed columns, in order.
    pub columns: Vec<String>,
    /// Whether it enforces uniqueness.
    pub unique: bool,
}

/// A database's tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Table name → its columns in declaration order.
    pub columns: BTreeMap<String, Vec<Column>>,
    /// Table name → its indexes.
    pub indexes: BTreeMap<String, BTreeSet<Index>>,
}

impl SqlStore {
    /// Reads the schema back from the engine's catalogue.
    pub async fn schema(&self) -> Result<Schema, sqlx::Error> {
        match self.engine() {
            Backend::Sqlite => self.sqlite_schema().await,
            Backend::Postgres => self.postgres_schema().await,
        }
    }

    async fn sqlite_schema(&self) -> Result<Schema, sqlx::Error> {
        let mut schema = Schema::default();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        for table in tables {
            let rows = sqlx::query(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
            )
            .bind(&table)
            .fetch_all(&self.pool)
            .await?;
            let mut columns = Vec::new();
            for r in rows {
                let not_null: i64 = r.try_get(2)?;
                let pk: i64 = r.try_get(3)?;
                columns.push(Column {
                    name: r.try_get(0)?,
                    kind: ColumnType::of(&r.try_get::<String, _>(1)?),
                    not_null: not_null != 0 || pk != 0,
                });
            }
            let mut indexes = BTreeSet::new();
            let list = sqlx::query(
                "SELECT name, \"unique\", origin FROM pragma_index_list($1) WHERE origin <> 'pk'",
            )
            .bind(&table)
            .fetch_all(&self.pool)
            .await?;
            for index in list {
                let name: String = index.try_get(0)?;
                let unique: i64 = index.try_get(1)?;
                let cols: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                        .bind(&name)
                        .fetch_all(&self.pool)
                        .await?;
                indexes.insert(Index {
                    columns: cols,
                    unique: unique != 0,
                });
            }
            schema.columns.insert(table.clone(), columns);
            schema.indexes.insert(table, indexes);
        }
        Ok(schema)
    }

    async fn postgres_schema(&self) -> Result<Schema, sqlx::Error> {
        let mut schema = Schema::default();
        let rows = sqlx::query(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text \
             FROM information_schema.columns c JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             ORDER BY c.table_name, c.ordinal_position",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let table: String = r.try_get(0)?;
            let nullable: String = r.try_get(3)?;
            schema.indexes.entry(table.clone()).or_default();
            schema.columns.entry(table).or_default().push(Column {
                name: r.try_get(1)?,
                kind: ColumnType::of(&r.try_get::<String, _>(2)?),
                not_null: nullable == "NO",
            });
        }
        // One row per (index, column), in the index's column order.
        let rows = sqlx::query(
            "SELECT t.relname::text, i.relname::text, CASE WHEN x.indisunique THEN 1 ELSE 0 END, \
                    a.attname::text \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = current_schema() AND NOT x.indisprimary \
             ORDER BY t.relname, i.relname, k.ord",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_index: BTreeMap<(String, String), Index> = BTreeMap::new();
        for r in rows {
            let table: String = r.try_get(0)?;
            let name: String = r.try_get(1)?;
            let unique: i32 = r.try_get(2)?;
            let entry = by_index.entry((table, name)).or_insert_with(|| Index {
                columns: Vec::new(),
                unique: unique != 0,
            });
            entry.columns.push(r.try_get(3)?);
        }
        for ((table, _), index) in by_index {
            schema.indexes.entry(table).or_default().insert(index);
        }
        Ok(schema)
    }
}
