--
-- PostgreSQL database dump
--

-- Dumped from database version 15.5
-- Dumped by pg_dump version 15.5

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: shop
--

CREATE SCHEMA audit;


ALTER SCHEMA audit OWNER TO shop;

--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;


COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';


--
-- Name: order_status; Type: TYPE; Schema: public; Owner: shop
--

CREATE TYPE public.order_status AS ENUM (
    'new',
    'paid',
    'shipped',
    'cancelled'
);


ALTER TYPE public.order_status OWNER TO shop;

--
-- Name: touch_updated_at(); Type: FUNCTION; Schema: public; Owner: shop
--

CREATE FUNCTION public.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;


ALTER FUNCTION public.touch_updated_at() OWNER TO shop;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: customers; Type: TABLE; Schema: public; Owner: shop
--

CREATE TABLE public.customers (
    id bigint NOT NULL,
    email character varying(255) NOT NULL,
    name text,
    country character(2) DEFAULT 'US'::bpchar NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT customers_email_lower CHECK (((email)::text = lower((email)::text)))
);


ALTER TABLE public.customers OWNER TO shop;

--
-- Name: customers_id_seq; Type: SEQUENCE; Schema: public; Owner: shop
--

CREATE SEQUENCE public.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.customers_id_seq OWNER TO shop;

ALTER SEQUENCE public.customers_id_seq OWNED BY public.customers.id;

CREATE TABLE public.addresses (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    line1 text NOT NULL,
    postcode character varying(10),
    is_default boolean DEFAULT false NOT NULL
);

CREATE TABLE public.products (
    id integer NOT NULL,
    sku character varying(32) NOT NULL,
    title text NOT NULL,
    price numeric(12,2) NOT NULL,
    weight_kg real,
    rating double precision,
    stock smallint DEFAULT 0 NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT products_price_check CHECK ((price >= (0)::numeric))
);

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status public.order_status DEFAULT 'new'::public.order_status NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    placed_on date,
    public_id uuid DEFAULT gen_random_uuid() NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE public.order_items (
    order_id bigint NOT NULL,
    product_id integer NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    CONSTRAINT order_items_quantity_check CHECK ((quantity > 0))
);

CREATE TABLE public.payments (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    provider_ref text,
    receipt bytea,
    paid_at timestamp with time zone
);

CREATE TABLE public.shipments (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    address_id bigint,
    carrier character varying(20),
    shipped_at timestamp with time zone
);

CREATE TABLE public.reviews (
    id bigint NOT NULL,
    product_id integer NOT NULL,
    customer_id bigint,
    stars smallint NOT NULL,
    body text,
    CONSTRAINT reviews_stars_check CHECK (((stars >= 1) AND (stars <= 5)))
);

CREATE TABLE public.coupons (
    code character varying(16) NOT NULL,
    percent_off smallint NOT NULL,
    valid_until date
);

CREATE TABLE "public"."Order Notes" (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    "Body" text
);

CREATE TABLE audit.events (
    id bigint NOT NULL,
    table_name text NOT NULL,
    happened_at timestamp with time zone DEFAULT now()
);

CREATE VIEW public.paid_orders AS
 SELECT orders.id,
    orders.total
   FROM public.orders
  WHERE (orders.status = 'paid'::public.order_status);

ALTER TABLE ONLY public.customers ALTER COLUMN id SET DEFAULT nextval('public.customers_id_seq'::regclass);

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_email_key UNIQUE (email);

ALTER TABLE ONLY public.addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.products
    ADD CONSTRAINT products_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_pkey PRIMARY KEY (order_id, product_id);

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.shipments
    ADD CONSTRAINT shipments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.coupons
    ADD CONSTRAINT coupons_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public."Order Notes"
    ADD CONSTRAINT "Order Notes_pkey" PRIMARY KEY (id);

CREATE INDEX orders_customer_id_idx ON public.orders USING btree (customer_id);

CREATE UNIQUE INDEX orders_public_id_key ON public.orders USING btree (public_id);

CREATE INDEX orders_open_idx ON public.orders USING btree (placed_on) WHERE (status <> ALL (ARRAY['shipped'::public.order_status, 'cancelled'::public.order_status]));

CREATE INDEX products_attributes_idx ON public.products USING gin (attributes);

CREATE INDEX customers_lower_name_idx ON public.customers USING btree (lower(name));

CREATE INDEX CONCURRENTLY IF NOT EXISTS reviews_product_id_idx ON public.reviews (product_id);

CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

ALTER TABLE ONLY public.addresses
    ADD CONSTRAINT addresses_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id);

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.products(id);

ALTER TABLE public.payments
    ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id) NOT VALID;

ALTER TABLE public.payments VALIDATE CONSTRAINT payments_order_id_fkey;

ALTER TABLE ONLY public.shipments
    ADD CONSTRAINT shipments_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);

ALTER TABLE ONLY public.shipments
    ADD CONSTRAINT shipments_address_id_fkey FOREIGN KEY (address_id) REFERENCES public.addresses(id) ON DELETE SET NULL NOT VALID;

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.products(id);

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public."Order Notes"
    ADD CONSTRAINT "Order Notes_order_id_fkey" FOREIGN KEY (order_id) REFERENCES public.orders(id);

COMMENT ON TABLE public.orders IS 'one row per checkout';

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO PUBLIC;
GRANT SELECT ON TABLE public.orders TO reporting;

--
-- PostgreSQL database dump complete
--
