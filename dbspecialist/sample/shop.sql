-- dbspecialist sample database: a small online shop (pure SQLite, 3.40+).
--
-- Every row is derived from row numbers with fixed arithmetic (no random(), no 'now'),
-- so two runs produce identical data. Works on a file or on ':memory:'.
--
-- The schema contains deliberate, realistic design flaws for schema-review tools to find:
-- FLAW: unindexed foreign key: order_items.product_id REFERENCES products(id) has no index
-- FLAW: unindexed foreign key: payments.order_id REFERENCES orders(id) has no index
-- FLAW: wide table: customers has 29 columns incl. large notes, JSON-ish preferences, billing_*/shipping_* copies
-- FLAW: money as floating point: payments.amount is REAL (split payments show rounding artefacts)
-- FLAW: redundant index: ix_orders_customer (customer_id) prefixes ix_orders_customer_created (customer_id, created_at)
-- FLAW: low-cardinality index: ix_orders_status on orders.status (5 distinct values)
-- FLAW: table without a primary key: product_tags (product_id, tag) has no key (and a few duplicate rows)
-- FLAW: free-text status: orders.status is TEXT with no CHECK constraint
-- FLAW: inconsistent timestamp format: customers.last_login_at mixes ISO-8601, dd/mm/yyyy and unix epoch text

-- Product category tree (parent_id points at the parent category; NULL for top level).
CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES categories(id),
    name        TEXT NOT NULL UNIQUE,
    description TEXT
);
CREATE INDEX ix_categories_parent ON categories (parent_id);

-- Products for sale; prices in integer cents.
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    sku         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    stock       INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    weight_kg   REAL,
    is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at  TEXT NOT NULL
);
CREATE INDEX ix_products_category ON products (category_id);

-- Customer accounts, with contact details, both addresses, preferences and support notes.
CREATE TABLE customers (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE CHECK (email LIKE '%_@_%'),
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    phone                TEXT,
    date_of_birth        TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT,
    last_login_at        TEXT,
    is_active            INTEGER NOT NULL DEFAULT 1,
    marketing_opt_in     INTEGER NOT NULL DEFAULT 0,
    loyalty_points       INTEGER NOT NULL DEFAULT 0,
    referral_code        TEXT,
    company_name         TEXT,
    vat_number           TEXT,
    billing_line1        TEXT,
    billing_line2        TEXT,
    billing_city         TEXT,
    billing_region       TEXT,
    billing_postal_code  TEXT,
    billing_country      TEXT,
    shipping_line1       TEXT,
    shipping_line2       TEXT,
    shipping_city        TEXT,
    shipping_region      TEXT,
    shipping_postal_code TEXT,
    shipping_country     TEXT,
    preferences          TEXT,
    notes                TEXT
);

-- Orders placed by customers; totals in integer cents (items + shipping).
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers(id),
    status         TEXT NOT NULL,
    currency       TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
    shipping_cents INTEGER NOT NULL DEFAULT 0 CHECK (shipping_cents >= 0),
    total_cents    INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    created_at     TEXT NOT NULL,
    shipped_at     TEXT
);
CREATE INDEX ix_orders_customer ON orders (customer_id);
CREATE INDEX ix_orders_customer_created ON orders (customer_id, created_at);
CREATE INDEX ix_orders_status ON orders (status);

-- Order lines: one product per line, with the unit price at the time of purchase.
CREATE TABLE order_items (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    line_no          INTEGER NOT NULL CHECK (line_no > 0),
    product_id       INTEGER NOT NULL REFERENCES products(id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    UNIQUE (order_id, line_no)
);

-- Payments received for orders (some orders are paid in two parts).
CREATE TABLE payments (
    id        INTEGER PRIMARY KEY,
    order_id  INTEGER NOT NULL REFERENCES orders(id),
    amount    REAL NOT NULL CHECK (amount > 0),
    method    TEXT NOT NULL CHECK (method IN ('card', 'paypal', 'bank_transfer', 'gift_card')),
    paid_at   TEXT NOT NULL,
    reference TEXT NOT NULL
);

-- Free-form marketing tags attached to products (no key at all).
CREATE TABLE product_tags (
    product_id INTEGER NOT NULL REFERENCES products(id),
    tag        TEXT NOT NULL
);

BEGIN;

INSERT INTO categories (id, parent_id, name, description) VALUES
    (1, NULL, 'Electronics', 'Gadgets and devices'), (2, NULL, 'Home & Kitchen', 'Everything for the home'),
    (3, NULL, 'Books', 'Printed books'), (4, NULL, 'Sports & Outdoors', 'Gear for staying active'),
    (5, NULL, 'Clothing', 'Apparel and footwear'), (6, 1, 'Phones', NULL), (7, 1, 'Laptops', NULL),
    (8, 1, 'Audio', NULL), (9, 2, 'Cookware', NULL), (10, 2, 'Furniture', NULL), (11, 2, 'Lighting', NULL),
    (12, 3, 'Fiction', NULL), (13, 3, 'Non-fiction', NULL), (14, 3, 'Children''s Books', NULL),
    (15, 4, 'Camping', NULL), (16, 4, 'Cycling', NULL), (17, 4, 'Fitness', NULL), (18, 5, 'Menswear', NULL),
    (19, 5, 'Womenswear', NULL), (20, 5, 'Shoes', NULL);

INSERT INTO products (id, category_id, sku, name, price_cents, stock, weight_kg, is_active, created_at)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200),
adj(i, word) AS (VALUES (0, 'Classic'), (1, 'Pro'), (2, 'Compact'), (3, 'Deluxe'), (4, 'Eco'),
                        (5, 'Ultra'), (6, 'Essential'), (7, 'Premium'), (8, 'Travel'), (9, 'Smart'))
SELECT n, c.id, printf('SKU-%05d', n * 37), printf('%s %s %03d', adj.word, c.name, n),
       ((n * 7919) % 200) * 100 + 99, (n * 13) % 250, round(0.1 + ((n * 29) % 500) / 100.0, 2),
       CASE WHEN n % 17 = 0 THEN 0 ELSE 1 END,
       datetime('2022-01-01', printf('+%d minutes', n * 1577))
FROM seq JOIN categories c ON c.id = 6 + (n * 7) % 15 JOIN adj ON adj.i = (n * 3) % 10;

INSERT INTO customers
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000),
firsts(i, name) AS (VALUES (0, 'Ava'), (1, 'Liam'), (2, 'Olivia'), (3, 'Noah'), (4, 'Emma'), (5, 'Mateo'),
    (6, 'Sofia'), (7, 'Lucas'), (8, 'Mia'), (9, 'Ethan'), (10, 'Zoe'), (11, 'Hiro'), (12, 'Amara'), (13, 'Jonas'),
    (14, 'Priya'), (15, 'Omar')),
lasts(i, name) AS (VALUES (0, 'Smith'), (1, 'Garcia'), (2, 'Müller'), (3, 'Rossi'), (4, 'Kowalski'), (5, 'Nguyen'),
    (6, 'Okafor'), (7, 'Tanaka'), (8, 'Silva'), (9, 'Dubois'), (10, 'Jensen'), (11, 'Novak'), (12, 'Patel'),
    (13, 'O''Brien'), (14, 'Larsen'), (15, 'Haddad')),
cities(i, city, region, country) AS (VALUES (0, 'Springfield', 'IL', 'US'), (1, 'Portland', 'OR', 'US'),
    (2, 'Austin', 'TX', 'US'), (3, 'Toronto', 'ON', 'CA'), (4, 'Manchester', 'ENG', 'GB'),
    (5, 'Lyon', 'ARA', 'FR'), (6, 'Hamburg', 'HH', 'DE'), (7, 'Madrid', 'MD', 'ES'),
    (8, 'Melbourne', 'VIC', 'AU'), (9, 'Osaka', 'OS', 'JP')),
base AS (
    SELECT n, f.name AS first_name, l.name AS last_name, b.city AS b_city, b.region AS b_region,
           b.country AS b_country, s.city AS s_city, s.region AS s_region, s.country AS s_country,
           datetime('2022-01-01', printf('+%d minutes', n * 500)) AS created,
           datetime('2024-06-01', printf('+%d minutes', (n * 7919) % 300000)) AS login
    FROM seq JOIN firsts f ON f.i = n % 16 JOIN lasts l ON l.i = (n / 16 + n * 5) % 16
    JOIN cities b ON b.i = n % 10 JOIN cities s ON s.i = CASE WHEN n % 7 = 0 THEN (n * 3 + 1) % 10 ELSE n % 10 END
)
SELECT n,
       printf('%s.%s%d@example.com', lower(first_name), lower(replace(last_name, '''', '')), n),
       first_name, last_name,
       CASE WHEN n % 5 = 0 THEN NULL ELSE printf('+1-555-%04d', (n * 7919) % 10000) END,
       CASE WHEN n % 4 = 0 THEN NULL ELSE date('1950-01-01', printf('+%d days', (n * 7919) % 20000)) END,
       created,
       CASE WHEN n % 3 = 0 THEN NULL ELSE datetime(created, printf('+%d hours', (n * 31) % 5000)) END,
       CASE n % 5 WHEN 3 THEN strftime('%d/%m/%Y %H:%M', login) WHEN 4 THEN strftime('%s', login) ELSE login END,
       CASE WHEN n % 23 = 0 THEN 0 ELSE 1 END,
       CASE WHEN n % 3 = 1 THEN 1 ELSE 0 END,
       (n * 37) % 2500,
       printf('REF%06X', (n * 2654435761) % 16777216),
       CASE WHEN n % 9 = 0 THEN printf('%s %s Ltd', last_name, b_city) END,
       CASE WHEN n % 9 = 0 THEN printf('%s%09d', b_country, (n * 104729) % 1000000000) END,
       printf('%d %s Street', 1 + (n * 17) % 999, last_name),
       CASE WHEN n % 4 = 0 THEN printf('Apt %d', 1 + n % 40) END,
       b_city, b_region, printf('%05d', (n * 7919) % 100000), b_country,
       CASE WHEN n % 7 = 0 THEN printf('%d Market Road', 1 + (n * 13) % 500)
            ELSE printf('%d %s Street', 1 + (n * 17) % 999, last_name) END,
       CASE WHEN n % 7 <> 0 AND n % 4 = 0 THEN printf('Apt %d', 1 + n % 40) END,
       s_city, s_region,
       CASE WHEN n % 7 = 0 THEN printf('%05d', (n * 104729) % 100000) ELSE printf('%05d', (n * 7919) % 100000) END,
       s_country,
       json_object('newsletter', json(CASE WHEN n % 3 = 1 THEN 'true' ELSE 'false' END),
                   'language', CASE n % 4 WHEN 0 THEN 'en' WHEN 1 THEN 'de' WHEN 2 THEN 'fr' ELSE 'es' END,
                   'theme', CASE WHEN n % 2 = 0 THEN 'dark' ELSE 'light' END,
                   'categories', json_array(6 + n % 15, 6 + (n * 7) % 15)),
       CASE WHEN n % 3 = 0 THEN NULL
            ELSE substr(replace(hex(zeroblob(40)), '00',
                 'Customer called about the delivery window; prefers weekend drop-off and email updates. '),
                 1, 200 + (n * 37) % 800) END
FROM base;

INSERT INTO orders (id, customer_id, status, currency, created_at, shipped_at)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 3000),
base AS (
    SELECT n, (n * 13) % 20 AS h, datetime('2023-01-01', printf('+%d minutes', n * 350 + (n * 7919) % 300)) AS created
    FROM seq
)
SELECT n,
       1 + (n * 7919) % (1000 - (n % 4) * 240),
       CASE WHEN h < 2 THEN 'pending' WHEN h < 3 THEN 'cancelled' WHEN h < 5 THEN 'paid'
            WHEN h < 8 THEN 'shipped' ELSE 'delivered' END,
       CASE WHEN n % 9 = 0 THEN 'EUR' ELSE 'USD' END,
       created,
       CASE WHEN h >= 5 THEN datetime(created, printf('+%d hours', 12 + (n * 31) % 96)) END
FROM base;

INSERT INTO order_items (id, order_id, line_no, product_id, quantity, unit_price_cents)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 3000),
lines(l) AS (VALUES (1), (2), (3), (4), (5)),
pairs AS (
    SELECT n AS o, l, 1 + (n * 17 + l * 53) % 200 AS product_id
    FROM seq JOIN lines ON l <= 1 + (n * 7) % 4 + (n % 5 = 0)
)
SELECT row_number() OVER (ORDER BY o, l), o, l, pairs.product_id,
       1 + ((o * l * 31) % 10) / 4, p.price_cents
FROM pairs JOIN products p ON p.id = pairs.product_id
ORDER BY o, l;

UPDATE orders
SET shipping_cents = CASE WHEN s.subtotal >= 5000 THEN 0 ELSE 499 END,
    total_cents = s.subtotal + CASE WHEN s.subtotal >= 5000 THEN 0 ELSE 499 END
FROM (SELECT order_id, sum(quantity * unit_price_cents) AS subtotal FROM order_items GROUP BY order_id) AS s
WHERE s.order_id = orders.id;

INSERT INTO payments (id, order_id, amount, method, paid_at, reference)
WITH parts(part) AS (VALUES (1), (2)),
due AS (
    SELECT o.id AS order_id, o.total_cents, o.created_at, part,
           CASE WHEN o.id % 6 = 0 THEN 2 ELSE 1 END AS nparts
    FROM orders o JOIN parts ON part <= CASE WHEN o.id % 6 = 0 THEN 2 ELSE 1 END
    WHERE o.status IN ('paid', 'shipped', 'delivered')
)
SELECT row_number() OVER (ORDER BY order_id, part), order_id,
       CASE WHEN nparts = 1 THEN total_cents / 100.0
            WHEN part = 1 THEN round(total_cents * 0.006, 2)
            ELSE total_cents / 100.0 - round(total_cents * 0.006, 2) END,
       CASE WHEN part = 2 THEN 'gift_card'
            ELSE CASE (order_id * 7) % 3 WHEN 0 THEN 'card' WHEN 1 THEN 'paypal' ELSE 'bank_transfer' END END,
       datetime(created_at, printf('+%d minutes', 5 + (order_id * 13) % 120 + (part - 1) * 1440)),
       printf('PAY-%08X-%d', (order_id * 2654435761) % 4294967296, part)
FROM due
ORDER BY order_id, part;

INSERT INTO product_tags (product_id, tag)
WITH tags(i, tag) AS (VALUES (0, 'bestseller'), (1, 'new'), (2, 'sale'), (3, 'eco'), (4, 'gift-idea'),
                             (5, 'clearance'), (6, 'limited'), (7, 'premium'))
SELECT p.id, t.tag
FROM products p JOIN tags t ON (p.id * 7 + t.i * 11) % 8 < 1 + p.id % 2
UNION ALL  -- accidental double-tagging: nothing prevents duplicate rows
SELECT p.id, t.tag
FROM products p JOIN tags t ON (p.id * 7 + t.i * 11) % 8 = 0
WHERE p.id % 50 = 0
ORDER BY 1, 2;

COMMIT;

ANALYZE;
