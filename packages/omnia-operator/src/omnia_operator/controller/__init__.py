"""The watch/reconcile machinery: work queue, informers, controllers, leader election and the manager."""
