-- A pool may hand its new leads to a team at once, by the team's policy, instead of waiting for claims.
alter table lead_pools add column auto_assign_team text references teams(id);
