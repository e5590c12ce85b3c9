"""The platform on a RabbitMQ cluster: quorum queues, their migration, node failures."""
