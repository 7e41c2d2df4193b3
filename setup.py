"""Build glue: the C line and DSP libraries are compiled through cffi (API mode)."""
from setuptools import setup

setup(
    package_dir={"callbox": "firmware/callbox", "callbox_web": "webui/callbox_web"},
    packages=[
        "callbox", "callbox.bus", "callbox.hw", "callbox.media", "callbox.signalling",
        "callbox.calls", "callbox.acd", "callbox.recorder", "callbox.config",
        "callbox.supervisor", "callbox.console", "callbox.daemons", "callbox.sim", "callbox.tools",
        "callbox_web",
    ],
    package_data={
        "callbox.config": ["migrations/*.sql"],
        "callbox_web": ["views/*.tpl", "static/*"],
    },
    cffi_modules=["drivers/build_line.py:ffibuilder", "dsp/build_dsp.py:ffibuilder"],
    zip_safe=False,
)
