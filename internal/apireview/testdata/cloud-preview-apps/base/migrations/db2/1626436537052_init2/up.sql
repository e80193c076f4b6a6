CREATE TABLE public.db2_table_3 (
    id integer NOT NULL,
    text text NOT NULL
);
