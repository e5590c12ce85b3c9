"""`@configured_timer(interval, setting)`: nameko's @timer whose interval a deployment (or a
test that wants it fast) can override through the container config key `setting`."""
from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, interval, setting: str, **kwargs):
        super().__init__(interval, **kwargs)
        self.setting = setting

    def setup(self):
        self.interval = float(self.container.config.get(self.setting, self.interval))
        super().setup()


configured_timer = ConfiguredTimer.decorator
