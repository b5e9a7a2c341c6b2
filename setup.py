"""Packaging for endless_world: everything is read from settings.ini (nbdev 2.x layout)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

# settings.ini's nbdev license name -> the SPDX expression packaging wants (License :: classifiers are deprecated)
licenses = {"apache2": "Apache-2.0"}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature",
            "7 - Inactive"]
py_versions = "3.10 3.11 3.12 3.13".split()
license_expression = licenses[cfg["license"]]
min_python = cfg["min_python"]

setuptools.setup(
    name=cfg["repo"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8") if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=license_expression,
    url=cfg["git_url"],
    keywords=cfg["keywords"],
    packages=setuptools.find_packages(include=["endless_world", "endless_world.*"]),
    include_package_data=True,
    install_requires=cfg["requirements"].split(),
    # test: the browser test of the widget demos (tests/test_browser.py) drives the system Chromium with Playwright;
    # the pip package brings no browser and the test never downloads one
    extras_require={"dev": cfg["dev_requirements"].split(), "test": ["pytest", "playwright"]},
    python_requires=f">={min_python}",
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
    ] + [f"Programming Language :: Python :: {v}" for v in py_versions[py_versions.index(min_python):]],
    entry_points={
        "console_scripts": ["endless-world=endless_world.cli:main"],   # the one command line: endless-world --help
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
