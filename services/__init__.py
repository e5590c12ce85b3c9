"""The platform's back-end services. Each sub-package but `plumbing` is one nameko service."""

# "module:Class" of every service, in start order. The topology step, the migration step and the
# local runner all read this list, so adding a service here is enough to have it declared and run.
SERVICE_CLASSES = {
    "members": "services.members.service:MembersService",
    "services_desk": "services.services_desk.service:ServicesDeskService",
    "donations": "services.donations.service:DonationsService",
    # Lives beside the gateway (it serves the gateway's webhook registrations) but runs like
    # any other service, with its own database.
    "webhooks": "gateway.webhooks.service:WebhooksService",
}
