-- An office may require its client certificate at the portal's login, besides the user's login ID and password
-- (as the national interface does): the TLS connection must present a certificate of that office.
alter table offices add column login_certificate integer not null default 0;
