//! Products, customers and the sales registry that the warranty check reads.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{customers, products, sales};
use domain::locale::Locale;

use super::types::{CustomerId, DbEnum, OptEnum};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub series: Option<String>,
    pub warranty_months: i32,
    pub size_units: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = products)]
pub struct NewProduct<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub series: Option<&'a str>,
    pub warranty_months: i32,
    pub size_units: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales)]
pub struct SaleRow {
    pub id: i64,
    pub serial_no: String,
    pub sku: String,
    pub customer_id: Option<CustomerId>,
    pub sold_at: NaiveDate,
    pub warranty_until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    /// The production batch the unit came from.
    pub batch_id: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sales)]
pub struct NewSale<'a> {
    pub serial_no: &'a str,
    pub sku: &'a str,
    pub customer_id: Option<CustomerId>,
    pub sold_at: NaiveDate,
    pub warranty_until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub batch_id: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_at: NaiveDateTime,
    /// The language she is written to in (`en`, `ru`).
    #[diesel(deserialize_as = OptEnum<Locale>)]
    pub locale: Option<Locale>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_at: NaiveDateTime,
    pub locale: Option<DbEnum<Locale>>,
}

pub fn insert_product(conn: &mut DbConnection, new: &NewProduct) -> QueryResult<ProductRow> {
    diesel::insert_into(products::table)
        .values(new)
        .returning(products::all_columns)
        .get_result::<ProductRow>(conn)
}

/// The product categories the catalogue has, to check a partner's list against.
pub fn catalogue_categories(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    products::table
        .select(products::category)
        .distinct()
        .order(products::category.asc())
        .load(conn)
}

pub fn find_product(conn: &mut DbConnection, sku: &str) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::sku.eq(sku))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_sale(conn: &mut DbConnection, new: &NewSale) -> QueryResult<SaleRow> {
    diesel::insert_into(sales::table)
        .values(new)
        .returning(sales::all_columns)
        .get_result::<SaleRow>(conn)
}

/// The sale of a serial number with its product, if registered.
pub fn find_sale(
    conn: &mut DbConnection,
    serial_no: &str,
) -> QueryResult<Option<(SaleRow, ProductRow)>> {
    sales::table
        .inner_join(products::table.on(products::sku.eq(sales::sku)))
        .filter(sales::serial_no.eq(serial_no))
        .select((SaleRow::as_select(), ProductRow::as_select()))
        .first(conn)
        .optional()
}

pub fn insert_customer(conn: &mut DbConnection, new: &NewCustomer) -> QueryResult<CustomerRow> {
    diesel::insert_into(customers::table)
        .values(new)
        .returning(customers::all_columns)
        .get_result::<CustomerRow>(conn)
}

pub fn find_customer(conn: &mut DbConnection, id: CustomerId) -> QueryResult<Option<CustomerRow>> {
    customers::table
        .find(id)
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()
}

/// `email` must be normalised already (see `app::registry::normalise_email`).
pub fn find_customer_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> QueryResult<Option<CustomerRow>> {
    customers::table
        .filter(customers::email.eq(email))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()
}

/// The warranty rule's view of a sale: the sale's own end date wins over the product term.
pub fn sale_record(sale: &SaleRow, product: &ProductRow) -> domain::warranty::SaleRecord {
    domain::warranty::SaleRecord {
        sold_at: sale.sold_at,
        warranty_months: u32::try_from(product.warranty_months).ok(),
        warranty_until: sale.warranty_until,
    }
}
