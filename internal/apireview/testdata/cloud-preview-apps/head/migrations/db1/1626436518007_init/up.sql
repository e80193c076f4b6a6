CREATE TABLE public.db1_table_2z (
    id integer NOT NULL,
    text text NOT NULL
);
