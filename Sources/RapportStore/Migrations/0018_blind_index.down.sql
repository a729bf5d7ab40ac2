drop table index_keys;
