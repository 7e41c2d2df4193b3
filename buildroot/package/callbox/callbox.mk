################################################################################
#
# callbox
#
################################################################################

CALLBOX_VERSION = 0.1.0
CALLBOX_SITE = $(BR2_EXTERNAL_CALLBOX_PATH)/..
CALLBOX_SITE_METHOD = local
CALLBOX_LICENSE = Proprietary
CALLBOX_SETUP_TYPE = setuptools
CALLBOX_DEPENDENCIES = host-python-cffi host-python-setuptools

$(eval $(python-package))
