-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d).
-- One database and one owner role per service, plus the gateway's API-key database.
-- The passwords are for a local compose run only; they match deploy/docker-compose.yml.
CREATE ROLE members LOGIN PASSWORD 'members';
CREATE DATABASE members OWNER members;
CREATE ROLE services_desk LOGIN PASSWORD 'services_desk';
CREATE DATABASE services_desk OWNER services_desk;
CREATE ROLE donations LOGIN PASSWORD 'donations';
CREATE DATABASE donations OWNER donations;
CREATE ROLE webhooks LOGIN PASSWORD 'webhooks';
CREATE DATABASE webhooks OWNER webhooks;
CREATE ROLE gateway LOGIN PASSWORD 'gateway';
CREATE DATABASE gateway OWNER gateway;
