"""members: the registry of mobile party members, their org trees and flows (台账式管理)."""
