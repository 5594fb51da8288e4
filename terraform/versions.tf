terraform {
  # optional() object attributes with defaults need 1.3; check blocks need 1.5; a variable
  # validation that refers to a local (function_overrides) needs 1.9.
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
