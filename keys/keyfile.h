/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Encrypted private key files (keys/FORMAT.md). Filled in by the upkeep-keys work. */
