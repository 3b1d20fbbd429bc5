//! The store's one query interface over both databases. Queries are written once, with `$n`
//! placeholders, and run on SQLite through rusqlite (in the calling thread: no worker-thread hop per
//! statement, which is what lets the group-commit writer keep up with thousands of chargers) or on
//! PostgreSQL through sqlx.

use crate::{Result, StoreError};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{Column, Postgres, Row as _, Transaction, TypeInfo};
use std::borrow::Cow;
use std::sync::Arc;

/// A connection, or a transaction, of either database. Store functions take `&mut Conn`, so the same
/// query runs inside a write transaction or for a read.
pub struct Conn(pub(crate) Inner);

pub(crate) enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(PoolConnection<Postgres>),
    PostgresTx(Transaction<'static, Postgres>),
}

impl Conn {
    /// Runs several statements without parameters (a migration).
    pub(crate) async fn execute_script(&mut self, script: &str) -> Result<()> {
        match &mut self.0 {
            Inner::Sqlite(conn) => conn.execute_batch(script)?,
            Inner::Postgres(conn) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned())).execute(&mut **conn).await?;
            }
            Inner::PostgresTx(tx) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned())).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    pub(crate) fn is_postgres(&self) -> bool {
        !matches!(self.0, Inner::Sqlite(_))
    }
}

/// The type of a value, which PostgreSQL needs to know even of a NULL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Int,
    Real,
    Text,
}

/// A bound parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
}

/// What can be bound to a placeholder.
pub trait Bind {
    fn value(self) -> Value;
}

/// A type with a database kind, so that its `None` binds as a typed NULL.
pub trait Typed: Bind {
    const KIND: Kind;
}

impl Bind for i64 {
    fn value(self) -> Value {
        Value::Int(self)
    }
}
impl Typed for i64 {
    const KIND: Kind = Kind::Int;
}
impl Bind for f64 {
    fn value(self) -> Value {
        Value::Real(self)
    }
}
impl Typed for f64 {
    const KIND: Kind = Kind::Real;
}
impl Bind for String {
    fn value(self) -> Value {
        Value::Text(self)
    }
}
impl Typed for String {
    const KIND: Kind = Kind::Text;
}
impl Bind for &str {
    fn value(self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl Typed for &str {
    const KIND: Kind = Kind::Text;
}
impl Bind for &String {
    fn value(self) -> Value {
        Value::Text(self.clone())
    }
}
impl Typed for &String {
    const KIND: Kind = Kind::Text;
}
impl<T: Typed> Bind for Option<T> {
    fn value(self) -> Value {
        match self {
            Some(v) => v.value(),
            None => Value::Null(T::KIND),
        }
    }
}
impl Bind for &Option<String> {
    fn value(self) -> Value {
        self.as_ref().value()
    }
}

/// A statement and its parameters.
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// A statement; bind its `$1`, `$2`, … in order.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Bind) -> Query {
        self.args.push(value.value());
        self
    }

    /// Runs the statement and returns how many rows it changed.
    pub async fn execute(self, conn: &mut Conn) -> Result<u64> {
        match &mut conn.0 {
            Inner::Sqlite(conn) => Ok(sqlite_run(conn, &self.sql, &self.args)?.0),
            Inner::Postgres(conn) => Ok(self.postgres().execute(&mut **conn).await?.rows_affected()),
            Inner::PostgresTx(tx) => Ok(self.postgres().execute(&mut **tx).await?.rows_affected()),
        }
    }

    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<Row>> {
        match &mut conn.0 {
            Inner::Sqlite(conn) => Ok(sqlite_run(conn, &self.sql, &self.args)?.1),
            Inner::Postgres(conn) => postgres_rows(self.postgres().fetch_all(&mut **conn).await?),
            Inner::PostgresTx(tx) => postgres_rows(self.postgres().fetch_all(&mut **tx).await?),
        }
    }

    pub async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<Row>> {
        Ok(self.fetch_all(conn).await?.into_iter().next())
    }

    pub async fn fetch_one(self, conn: &mut Conn) -> Result<Row> {
        self.fetch_optional(conn).await?.ok_or_else(|| StoreError::Corrupt("a statement returned no row".into()))
    }

    fn postgres(self) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.into_owned()));
        for arg in self.args {
            query = match arg {
                Value::Null(Kind::Int) => query.bind(None::<i64>),
                Value::Null(Kind::Real) => query.bind(None::<f64>),
                Value::Null(Kind::Text) => query.bind(None::<String>),
                Value::Int(v) => query.bind(v),
                Value::Real(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
            };
        }
        query
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null(_) => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

/// Runs one statement on SQLite, binding `$n` by its number (SQLite numbers named parameters in the
/// order they first appear, which need not be `n`). Returns the rows changed and the rows returned.
fn sqlite_run(conn: &rusqlite::Connection, sql: &str, args: &[Value]) -> Result<(u64, Vec<Row>)> {
    let mut statement = conn.prepare_cached(sql)?;
    for index in 1..=statement.parameter_count() {
        let number = statement.parameter_name(index).and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok());
        let value = number.and_then(|n| args.get(n.checked_sub(1)?)).ok_or_else(|| {
            StoreError::Corrupt(format!("parameter {index} of {sql:?} is not a bound $n placeholder"))
        })?;
        statement.raw_bind_parameter(index, value)?;
    }
    let columns: Arc<[String]> = statement.column_names().map(str::to_owned).collect();
    let mut rows = Vec::new();
    let mut cursor = statement.raw_query();
    while let Some(row) = cursor.next()? {
        let values = (0..columns.len())
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null(Kind::Text),
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                        Value::Text(String::from_utf8(bytes.to_vec()).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                    }
                })
            })
            .collect::<Result<Vec<Value>>>()?;
        rows.push(Row { columns: Arc::clone(&columns), values });
    }
    Ok((conn.changes(), rows))
}

fn postgres_rows(rows: Vec<PgRow>) -> Result<Vec<Row>> {
    let Some(first) = rows.first() else { return Ok(Vec::new()) };
    let columns: Arc<[String]> = first.columns().iter().map(|c| c.name().to_owned()).collect();
    let kinds: Vec<String> = first.columns().iter().map(|c| c.type_info().name().to_owned()).collect();
    rows.iter()
        .map(|row| {
            let values = kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    Ok(match kind.as_str() {
                        "INT8" => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null(Kind::Int), Value::Int),
                        "INT4" => {
                            row.try_get::<Option<i32>, _>(i)?.map_or(Value::Null(Kind::Int), |v| Value::Int(v.into()))
                        }
                        "INT2" => {
                            row.try_get::<Option<i16>, _>(i)?.map_or(Value::Null(Kind::Int), |v| Value::Int(v.into()))
                        }
                        "BOOL" => {
                            row.try_get::<Option<bool>, _>(i)?.map_or(Value::Null(Kind::Int), |v| Value::Int(v.into()))
                        }
                        "FLOAT8" => row.try_get::<Option<f64>, _>(i)?.map_or(Value::Null(Kind::Real), Value::Real),
                        "FLOAT4" => {
                            row.try_get::<Option<f32>, _>(i)?.map_or(Value::Null(Kind::Real), |v| Value::Real(v.into()))
                        }
                        _ => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null(Kind::Text), Value::Text),
                    })
                })
                .collect::<Result<Vec<Value>>>()?;
            Ok(Row { columns: Arc::clone(&columns), values })
        })
        .collect()
}

/// A result row, the same whichever database produced it.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A column by position or by name.
pub trait ColumnIndex: std::fmt::Display {
    fn position(&self, columns: &[String]) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, columns: &[String]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

/// A Rust type a column decodes into.
pub trait Decode: Sized {
    fn decode(value: &Value) -> Option<Self>;
}

impl Decode for i64 {
    fn decode(value: &Value) -> Option<i64> {
        match value {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
}

impl Decode for f64 {
    fn decode(value: &Value) -> Option<f64> {
        match value {
            Value::Real(v) => Some(*v),
            // SQLite may hand back a whole-numbered REAL as an integer.
            Value::Int(v) => Some(*v as f64),
            _ => None,
        }
    }
}

impl Decode for String {
    fn decode(value: &Value) -> Option<String> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl Decode for bool {
    fn decode(value: &Value) -> Option<bool> {
        i64::decode(value).map(|v| v != 0)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null(_) => Some(None),
            other => T::decode(other).map(Some),
        }
    }
}

impl Row {
    pub fn try_get<T: Decode, I: ColumnIndex>(&self, index: I) -> Result<T> {
        let position =
            index.position(&self.columns).ok_or_else(|| StoreError::Corrupt(format!("no column {index}")))?;
        let value = &self.values[position];
        T::decode(value).ok_or_else(|| {
            StoreError::Corrupt(format!("column {index} holds {value:?}, not a {}", std::any::type_name::<T>()))
        })
    }
}
