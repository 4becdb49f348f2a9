"""Simulated IMU chips, one module per family (register-accurate models behind a SimulatedBus)."""

from wobble_trainer.sim.chip import ChipModel
from wobble_trainer.sim.chips import icm20948, lsm6ds, mpu6050

CHIP_MODELS: dict[str, type[ChipModel]] = {
    **mpu6050.CHIP_MODELS,
    **lsm6ds.CHIP_MODELS,
    **icm20948.CHIP_MODELS,
}
"""Chip name → simulated chip class (each has ``DEFAULT_ADDRESS``)."""
