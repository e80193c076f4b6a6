/* Orders for the new storefront. /* nested: DROP TABLE public.db1_table_1; */
   still a comment: TRUNCATE public.db1_table_1; */
CREATE TABLE public.db1_orders (id serial PRIMARY KEY, total integer NOT NULL);
-- DROP TABLE public.db1_table_2z;  (done below, for real)
DROP TABLE public.db1_table_2z;
