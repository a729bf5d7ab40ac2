drop table if exists access_refusals;
drop table if exists principals;
