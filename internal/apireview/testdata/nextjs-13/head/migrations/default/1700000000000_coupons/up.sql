CREATE TABLE public.coupon (code text PRIMARY KEY, discount int, user_id text);
CREATE FUNCTION public.reset_coupons() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  DELETE FROM public.coupon;   -- inside a function body: runs only when called
  DROP TABLE IF EXISTS public.old_coupon;
END
$body$;
INSERT INTO public.coupon VALUES ('DROP TABLE public.user;', 10, E'it\'s; TRUNCATE public.user');
SELECT "DELETE FROM" FROM (SELECT 1 AS "DELETE FROM") q;
ALTER TABLE public.product ALTER COLUMN price TYPE numeric(10,2);
UPDATE public.product SET price = 0;
DELETE FROM public.coupon WHERE code = 'x';
