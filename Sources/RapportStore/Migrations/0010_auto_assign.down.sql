alter table lead_pools drop column auto_assign_team;
