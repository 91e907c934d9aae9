-- A live activation with a null version puts the rule set shipped with the service
-- (apps/risk/config/rule-set.json) back in force: the way back from any uploaded version.
alter table risk.rule_set_activations drop constraint rule_set_activations_check;
