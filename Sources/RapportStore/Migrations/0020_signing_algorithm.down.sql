alter table signing_keys drop column algorithm;
