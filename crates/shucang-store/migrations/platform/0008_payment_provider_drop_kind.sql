-- Which provider took each payment (`PaymentProvider::code`); every payment
-- before this migration was the sandbox's.
ALTER TABLE payments ADD COLUMN provider TEXT NOT NULL DEFAULT 'sandbox';

-- How each drop sells (`DropKind::code`); every drop before this migration
-- was first come, first served.
ALTER TABLE drops ADD COLUMN kind TEXT NOT NULL DEFAULT 'first_come';
